import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context, MiddlewareHandler } from "hono";
import { CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
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

/**
 * The address server.ts derived (socket, or the trusted proxy hop). That header is written into
 * the Node request, which @hono/node-server does not pass on, so fall back to the socket peer.
 */
function callerAddress(c: Context): string | null {
  const derived = c.req.header(CLIENT_IP_HEADER);
  if (derived) return derived;
  try {
    return getConnInfo(c).remote.address ?? null;
  } catch {
    return null; // not served by node-server (app.request() in a test)
  }
}
