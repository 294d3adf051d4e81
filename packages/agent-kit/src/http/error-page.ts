/** The one HTML page agent-kit renders: a sign-in failure, every value escaped (B.5). */
export function errorPage(
  code: string,
  description: string | null,
  headers = new Headers(),
  status = 400,
): Response {
  const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("referrer-policy", "no-referrer");
  headers.set(
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  );
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head><body><main><h1>Sign-in did not complete</h1><p role="alert">${escapeHtml(description ?? code)}</p><p><a href="/">Back</a></p></main></body></html>`;
  return new Response(body, { status, headers });
}
