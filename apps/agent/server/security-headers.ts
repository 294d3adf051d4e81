import type { RequestHandler } from "express";
import helmet from "helmet";

/**
 * F.11: the headers the marketplace's pages send, on everything this agent serves (the web app, its assets
 * and the API): no framing by anyone (`frame-ancestors 'none'`, `X-Frame-Options: DENY`) against
 * clickjacking of the signed-in app, no `<base>` rewriting, scripts and connections only from this origin,
 * and no Referer (URLs may carry a knowledge base id). helmet adds nosniff, COOP/CORP and the rest of its
 * defaults. HSTS and upgrade-insecure-requests only when the agent is served over https: on
 * http://localhost they would send the browser to a port with no TLS.
 */
export function securityHeaders(opts: { https: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: true,
      directives: {
        "default-src": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "object-src": ["'none'"],
        "form-action": ["'self'"],
        "img-src": ["'self'", "data:"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "upgrade-insecure-requests": opts.https ? [] : null,
      },
    },
    frameguard: { action: "deny" },
    referrerPolicy: { policy: "no-referrer" },
    strictTransportSecurity: opts.https ? { maxAge: 31_536_000 } : false,
  });
}
