import { originAllowed } from "@amp/contract";
import type { KitReply } from "./reply.ts";

/**
 * Which browsers may talk to this backend: the origins of the agent's own pages (the backend's and, in
 * cross-origin mode, the web app's), the CORS answer for them, and the F.6 / B.33 rule that a cookie-carrying
 * state change must come from one of them.
 */
export class OriginPolicy {
  readonly trustedOrigins: string[];

  constructor(
    private readonly opts: { baseURL: string; cookieMode: string; frontendOrigin?: string | undefined },
  ) {
    const own = new URL(opts.baseURL).origin;
    this.trustedOrigins = opts.frontendOrigin ? [own, opts.frontendOrigin] : [own];
  }

  /** A 403 reply for a state-changing request from elsewhere (see @amp/contract's originAllowed); else null. */
  check(method: string, headers: Headers): KitReply | null {
    if (originAllowed(this.trustedOrigins, method, headers)) return null;
    return {
      status: 403,
      body: { error: "forbidden_origin", message: "This request must come from the agent's web app." },
    };
  }

  /** CORS response headers for an allowed origin (exact origin, never `*`); none in same-origin mode. */
  corsHeaders(origin: string | null): Record<string, string> {
    if (this.opts.cookieMode !== "cross-origin" || !origin || origin !== this.opts.frontendOrigin) return {};
    return {
      "access-control-allow-origin": origin,
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": "content-type, x-requested-with",
      vary: "Origin",
    };
  }
}
