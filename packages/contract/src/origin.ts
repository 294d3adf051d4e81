/** Methods that change nothing (RFC 9110 §9.2.1); every other method is a state change. */
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * F.6 / B.33, the one rule of both services: a state-changing request that carries cookies must come
 * from one of `trusted` origins.
 *
 * Cookies ride along from any page the browser visits (SameSite=Lax still sends them from same-site origins,
 * and SameSite=None from everywhere), so the cookie alone never proves the user meant the request. Browsers
 * send `Origin` on every non-GET fetch and form post; when a browser left it out, `Sec-Fetch-Site:
 * same-origin` is the same proof. A request without cookies cannot act as anyone and is left to the route.
 * Missing both headers while carrying cookies is refused: that is not a browser we can vouch for.
 *
 * @returns true when the request may proceed.
 */
export function originAllowed(trusted: readonly string[], method: string, headers: Headers): boolean {
  if (SAFE_METHODS.has(method.toUpperCase())) return true;
  if (!headers.get("cookie")) return true;
  const origin = headers.get("origin");
  if (origin !== null) return trusted.includes(origin);
  return headers.get("sec-fetch-site") === "same-origin";
}
