/** PostgreSQL/driver failures that mean "the database is unreachable right now", not "the query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === "string") {
      if (["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "ENOTFOUND", "EHOSTUNREACH"].includes(code))
        return true;
      // 08xxx connection exceptions, 57P0x shutdown, 57014 statement timeout, 53xxx out of resources.
      if (/^(08|57P0|53)/.test(code) || code === "57014") return true;
    }
    if (
      typeof message === "string" &&
      /Connection terminated|timeout exceeded when trying to connect|Cannot use a pool after calling end|PGlite is clos/i.test(
        message,
      )
    )
      return true;
  }
  return false;
}
