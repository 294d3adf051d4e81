/**
 * The web app's client-side routes (apps/marketplace-web/src/routes.tsx). A
 * browser navigation (Accept: text/html) to one of these gets the app's
 * index.html; any other unknown path is a 404 — an HTML page for a browser,
 * the JSON envelope for an API client. API paths never collide with these:
 * the API lives under /me, /agents (plural), /admin, /api.
 */
export const APP_ROUTES: readonly RegExp[] = [
  /^\/$/,
  /^\/agent\/[^/]+\/?$/,
  /^\/pricing\/[^/]+\/?$/,
  /^\/account\/?$/,
  /^\/console(\/.*)?$/,
];

export const isAppRoute = (path: string) => APP_ROUTES.some((route) => route.test(path));

/** A browser navigating (or a client asking for HTML), not a fetch for JSON. */
export function wantsHtml(headers: Headers): boolean {
  const mode = headers.get("sec-fetch-mode");
  if (mode === "navigate") return true;
  if (mode && mode !== "no-cors" && mode !== "same-origin") return false;
  return /\btext\/html\b/.test(headers.get("accept") ?? "");
}
