import type { MiddlewareHandler } from "hono";
import type { MarketplaceMetrics } from "./registry.ts";

const GRANT_TYPES = new Set(["authorization_code", "refresh_token", "client_credentials"]);
/** RFC 6749 §5.2 (+ RFC 6750 / 8707 codes the provider may answer); anything else is "other". */
const ERRORS = new Set([
  "invalid_request",
  "invalid_client",
  "invalid_grant",
  "unauthorized_client",
  "unsupported_grant_type",
  "invalid_scope",
  "invalid_target",
  "server_error",
  "temporarily_unavailable",
]);

/**
 * Observes `POST /api/auth/oauth2/token` from outside: the form's
 * `grant_type` (read from a clone, so the endpoint still gets its body) and
 * the answer's status and `error`. The endpoint itself is better-auth's;
 * nothing here changes what it does.
 */
export function tokenEndpointMetrics(metrics: MarketplaceMetrics): MiddlewareHandler {
  return async (c, next) => {
    const grantType = await readGrantType(c.req.raw);
    await next();
    const granted = c.res.status === 200;
    const error = granted ? "" : await readError(c.res, c.res.status);
    metrics.tokenRequests.inc({ grant_type: grantType, result: granted ? "granted" : "failed", error });
  };
}

async function readGrantType(request: Request): Promise<string> {
  try {
    const value = new URLSearchParams(await request.clone().text()).get("grant_type");
    if (value === null) return "none";
    return GRANT_TYPES.has(value) ? value : "other";
  } catch {
    return "none";
  }
}

async function readError(response: Response, status: number): Promise<string> {
  if (status === 429) return "rate_limited";
  try {
    const body = (await response.clone().json()) as { error?: unknown };
    const code = typeof body.error === "string" ? body.error : "";
    return ERRORS.has(code) ? code : status >= 500 ? "server_error" : "other";
  } catch {
    return status >= 500 ? "server_error" : "other";
  }
}
