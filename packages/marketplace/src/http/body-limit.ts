import type { Context, MiddlewareHandler } from "hono";
import { bodyLimit as streamingBodyLimit } from "hono/body-limit";

/**
 * hono's `bodyLimit`, without turning every request into a web `Request`. hono's middleware starts by
 * reading `c.req.raw.body`, which makes @hono/node-server build an undici `Request` and a web stream over
 * the socket for every request, bodiless GETs included: ~7 % of the marketplace's CPU under consume load
 * (issue 13, `--cpu-prof`). The same decisions are taken here from the headers where they suffice:
 * - GET and HEAD: a web `Request` has no body for them, so hono lets them through; so do we.
 * - a declared Content-Length without Transfer-Encoding: hono decides on the header alone, as Node's
 *   HTTP parser never delivers more bytes than it declares; so do we, and the body stays on the
 *   server's fast path (read once by the route, straight from the socket).
 * Everything else (a chunked body) goes through hono's streaming check, which counts the bytes.
 */
export function bodyLimit(options: {
  maxSize: number;
  onError: (c: Context) => Response | Promise<Response>;
}): MiddlewareHandler {
  const streaming = streamingBodyLimit(options);
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD") return next();
    const length = c.req.header("content-length");
    if (length !== undefined && c.req.header("transfer-encoding") === undefined)
      return Number.parseInt(length, 10) > options.maxSize ? options.onError(c) : next();
    return streaming(c, next);
  };
}
