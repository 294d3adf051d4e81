import type { MiddlewareHandler } from "hono";
import type { Logger } from "pino";

/**
 * One line per request: method, path (never the query string, which carries
 * codes, state and id_token_hint), status, duration and request id.
 */
export function accessLog(logger: Logger): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    logger.info(
      {
        requestId: c.get("requestId"),
        method: c.req.method,
        path: c.req.path,
        status: c.res.status,
        ms: Math.round((performance.now() - started) * 10) / 10,
      },
      "request",
    );
  };
}
