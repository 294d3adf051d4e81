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

/**
 * What a PostgreSQL error says about the request that caused it:
 * - `"invalid"`: the input cannot be stored (SQLSTATE class 22, data exception: a NUL byte or a character
 *   the encoding lacks, text where a number or uuid goes, a value out of range; 54001, nested too deep).
 *   The caller sent it, so it is a 400, never a 500.
 * - `"conflict"`: a unique (23505) or exclusion (23P01) constraint refused a write, typically two racing
 *   creates of one slug; the loser gets a 409, the winner's row stands.
 * - `null`: anything else (a bug or an outage; see isDatabaseUnavailable).
 * Drivers and ORMs wrap the server's error, so the `cause` chain is searched.
 */
export function databaseErrorKind(error: unknown): "invalid" | "conflict" | null {
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const { code } = e as { code?: unknown };
    if (typeof code !== "string" || !/^[0-9A-Z]{5}$/.test(code)) continue;
    if (code.startsWith("22") || code === "54001") return "invalid";
    if (code === "23505" || code === "23P01") return "conflict";
  }
  return null;
}
