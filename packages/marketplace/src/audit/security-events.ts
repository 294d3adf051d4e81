import type { Context, MiddlewareHandler } from "hono";
import { CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { GrantReplay } from "../auth/grant-gate.ts";
import type { Db } from "../db/database.ts";
import type { MarketplaceMetrics } from "../metrics/registry.ts";
import { recordAudit } from "./log.ts";

/**
 * Security events seen from outside better-auth's endpoints: a revocation it
 * accepted (`POST /api/auth/oauth2/revoke` answered 200; the client named in
 * the form, never the token) and a sign-in refused by the rate limiter
 * (`POST /api/auth/sign-in/email` answered 429; the caller's address).
 */
export function revocationAudit(db: Db): MiddlewareHandler {
  return async (c, next) => {
    const clientId = new URLSearchParams(await c.req.raw.clone().text()).get("client_id");
    await next();
    if (c.res.status !== 200) return;
    await recordAudit(db, {
      action: "oauth.revoke",
      targetType: "client",
      targetId: clientId?.slice(0, 200) ?? null,
    });
  };
}

export function signInLimitAudit(db: Db): MiddlewareHandler {
  return async (c, next) => {
    await next();
    if (c.res.status !== 429) return;
    await recordAudit(db, {
      action: "auth.sign_in_rate_limited",
      targetType: "ip",
      targetId: callerAddress(c),
    });
  };
}

/** The caller's address as http/client-address.ts derived it (socket peer, or the trusted proxy hop). */
const callerAddress = (c: Context): string | null => c.req.header(CLIENT_IP_HEADER) ?? null;

/**
 * A theft signal the token endpoint acted on (a replayed code, a reused
 * refresh token): counted, and recorded with the client and the user whose
 * grant was revoked.
 */
export function grantReplayEvents(db: Db, metrics: MarketplaceMetrics) {
  return async (replay: GrantReplay) => {
    metrics.grantReplays.inc({ kind: replay.kind });
    await recordAudit(db, {
      action: `oauth.${replay.kind}`,
      targetType: "client",
      targetId: replay.clientId,
      after: { userId: replay.userId, revoked: replay.kind === "code_replay" ? "code's tokens" : "family" },
    });
  };
}
