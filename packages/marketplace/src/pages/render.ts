import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Headers every server-rendered page carries (SECURITY-TESTS.md A.18). */
export const PAGE_HEADERS = {
  "Content-Security-Policy":
    "default-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
  "X-Frame-Options": "DENY",
  "Referrer-Policy": "no-referrer",
  "Cache-Control": "no-store",
} as const;

/** Renders a page with the security headers. */
export function page(c: Context, node: unknown, status: ContentfulStatusCode = 200) {
  for (const [name, value] of Object.entries(PAGE_HEADERS)) c.header(name, value);
  return c.html(node as string, status);
}
