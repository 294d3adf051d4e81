import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { hashToken } from "../auth/bearer.ts";
import type { SqlClient } from "../db/database.ts";
import { TOKEN_RULES } from "./rules.ts";
import type { RateLimitStore } from "./store.ts";

const TOKEN_PATH = "/api/auth/oauth2/token";
const GRANT_TYPES = new Set(["authorization_code", "refresh_token"]);

/**
 * Middleware for `/api/auth/*`:
 * - limits the token endpoint per (client_id, grant_type), with forged or
 *   dead grants counted apart from live ones (rules.ts `TOKEN_RULES`);
 * - gives every 429 under `/api/auth` (ours and better-auth's) a standard
 *   Retry-After, and on the OAuth endpoints the RFC 6749 error form.
 */
export function authRateLimits(deps: {
  store: RateLimitStore;
  sql: SqlClient;
  enabled: boolean;
}): MiddlewareHandler<AppEnv> {
  const { store, sql, enabled } = deps;

  /** Spends the request's token budgets; a refusal when one is exhausted. */
  async function limitTokenRequest(request: Request, address: string | undefined) {
    const form = new URLSearchParams(await request.clone().text());
    const clientId = tokenClientId(form, request.headers.get("authorization") ?? undefined);
    const grantType = form.get("grant_type") ?? "";
    const grant = GRANT_TYPES.has(grantType) ? grantType : "other";
    if (await isLiveGrant(sql, grantType, form, clientId)) {
      const decision = await store.consume(
        `oauth2-token|${clientId ?? "-"}|${grant}|known`,
        TOKEN_RULES.known,
      );
      return decision.allowed
        ? null
        : oauthTooManyRequests(decision.retryAfter, "too many token requests for this client");
    }
    // A failure spends its client's failure budget and, as a backstop against made-up client ids,
    // its address's: neither is shared with live grants.
    for (const [key, rule] of [
      [`oauth2-token|${clientId ?? "-"}|${grant}|unknown`, TOKEN_RULES.unknown],
      [`oauth2-token-failures|${address ?? "-"}`, TOKEN_RULES.unknownPerAddress],
    ] as const) {
      const decision = await store.consume(key, rule);
      if (!decision.allowed) {
        return oauthTooManyRequests(decision.retryAfter, "too many failed token requests; retry later");
      }
    }
    return null;
  }

  return async function authRateLimitsHandler(c, next) {
    if (enabled && c.req.method === "POST" && c.req.path === TOKEN_PATH) {
      const refused = await limitTokenRequest(c.req.raw, c.get("clientAddress"));
      if (refused) return refused;
    }
    await next();
    if (c.res.status === 429 && !c.res.headers.has("retry-after")) {
      // better-auth says X-Retry-After with a `{ message }` body.
      const retryAfter = Number(c.res.headers.get("x-retry-after")) || 60;
      c.res = c.req.path.startsWith("/api/auth/oauth2/")
        ? oauthTooManyRequests(retryAfter, "too many requests; retry later")
        : withRetryAfter(c.res, retryAfter);
    }
  };
}

/** RFC 6749 §2.3.1: the client id is in the form, or the user part of HTTP Basic credentials. */
function tokenClientId(form: URLSearchParams, authorization: string | undefined): string | null {
  let clientId = form.get("client_id");
  if (!clientId && authorization?.toLowerCase().startsWith("basic ")) {
    try {
      const decoded = Buffer.from(authorization.slice(6).trim(), "base64").toString("utf8");
      clientId = decodeURIComponent(decoded.slice(0, Math.max(0, decoded.indexOf(":"))).replace(/\+/g, " "));
    } catch {
      clientId = null;
    }
  }
  // Keys stay bounded whatever a caller sends.
  return clientId && clientId.length <= 200 ? clientId : null;
}

/** Whether the request presents a live authorization code, or a live refresh token of this client. */
async function isLiveGrant(
  sql: SqlClient,
  grantType: string,
  form: URLSearchParams,
  clientId: string | null,
): Promise<boolean> {
  const code = grantType === "authorization_code" ? form.get("code") : null;
  if (code) {
    // The provider keeps codes in `verification`, identified by their hash (see auth/bearer.ts hashToken).
    const { rows } = await sql.query(
      `SELECT 1 FROM "verification" WHERE "identifier" = $1 AND "expiresAt" > now() LIMIT 1`,
      [hashToken(code)],
      "rate_limit_live_code",
    );
    return rows.length > 0;
  }
  const refreshToken = grantType === "refresh_token" ? form.get("refresh_token") : null;
  if (refreshToken && clientId) {
    const { rows } = await sql.query(
      `SELECT 1 FROM "oauthRefreshToken"
        WHERE "token" = $1 AND "clientId" = $2 AND "revoked" IS NULL AND "expiresAt" > now() LIMIT 1`,
      [hashToken(refreshToken), clientId],
      "rate_limit_live_refresh",
    );
    return rows.length > 0;
  }
  return false;
}

function oauthTooManyRequests(retryAfter: number | null, description: string): Response {
  // RFC 6749 §4.1.2.1 names `temporarily_unavailable`; RFC 6585 §4 the status and Retry-After.
  return new Response(JSON.stringify({ error: "temporarily_unavailable", error_description: description }), {
    status: 429,
    headers: {
      "content-type": "application/json",
      "cache-control": "no-store",
      "retry-after": String(retryAfter ?? 60),
    },
  });
}

function withRetryAfter(response: Response, retryAfter: number): Response {
  const headers = new Headers(response.headers);
  headers.set("retry-after", String(retryAfter));
  return new Response(response.body, { status: response.status, headers });
}
