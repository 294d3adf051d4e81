/**
 * The one rule for where a redirect may go after sign-in (issue 9 §7), used by the marketplace's pages and
 * agent-kit alike.
 *
 * The target is resolved with the WHATWG URL parser against `base`, exactly as a browser will resolve the
 * `Location` header, so every trick a browser undoes (tabs and newlines dropped, `\` read as `/`, `//host`,
 * `javascript:`, percent-encoded or mixed-case schemes) is seen as the browser sees it. A target on `base`'s
 * origin comes back as a path (`/x?y#z`, re-serialised by the parser, so no control characters survive);
 * one on an `allowedOrigins` origin comes back absolute; anything else is `fallback`.
 *
 * @example
 * safeRedirect("/\t/evil.example/x", { base: "https://m.example.com" }) // "/"
 * safeRedirect("/pricing/a?x=1", { base: "https://m.example.com" }) // "/pricing/a?x=1"
 * safeRedirect("https://app.example.com/k", { base: "https://api.example.com", allowedOrigins: ["https://app.example.com"] })
 * // "https://app.example.com/k"
 */
export function safeRedirect(
  target: string | null | undefined,
  opts: { base: string; allowedOrigins?: readonly string[]; fallback?: string },
): string {
  const fallback = opts.fallback ?? "/";
  if (!target) return fallback;
  let base: URL;
  let url: URL;
  try {
    base = new URL(opts.base);
    url = new URL(target, base);
  } catch {
    return fallback;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return fallback;
  // Credentials in a redirect target only serve to disguise the host.
  if (url.username || url.password) return fallback;
  if (url.origin === base.origin) {
    // A path that starts with `//` would leave the origin once written as a relative Location.
    if (url.pathname.startsWith("//")) return fallback;
    return `${url.pathname}${url.search}${url.hash}`;
  }
  if (opts.allowedOrigins?.includes(url.origin)) return url.href;
  return fallback;
}
