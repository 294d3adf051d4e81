import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Context } from "hono";
import { getCookie, setCookie } from "hono/cookie";

const COOKIE = "marketplace.csrf";

/**
 * Double-submit CSRF protection for the server-rendered forms: a random
 * token in an HttpOnly SameSite=Lax cookie, echoed in a hidden field. A post
 * is accepted only when both match and, if the browser sent a real Origin, it
 * is our own.
 */
export function issueCsrf(c: Context, secure: boolean): string {
  const existing = getCookie(c, COOKIE);
  if (existing && /^[\w-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString("base64url");
  setCookie(c, COOKIE, token, { httpOnly: true, sameSite: "Lax", path: "/", secure });
  return token;
}

export function verifyCsrf(c: Context, submitted: unknown, ownOrigin: string): boolean {
  const origin = c.req.header("origin");
  // Pages send `Referrer-Policy: no-referrer`, so browsers post with `Origin: null`; the token still decides.
  if (origin && origin !== "null" && origin !== ownOrigin) return false;
  const cookie = getCookie(c, COOKIE);
  if (typeof submitted !== "string" || !cookie || submitted.length !== cookie.length) return false;
  return timingSafeEqual(Buffer.from(submitted), Buffer.from(cookie));
}
