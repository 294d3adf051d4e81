import { SCOPES } from "@amp/contract";
import { eq } from "drizzle-orm";
import type { Context } from "hono";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import type { BearerCache } from "./bearer.ts";
import { type ClaimSource, userInfoClaims } from "./claims.ts";

/**
 * OIDC UserInfo (Core §5.3) served by the marketplace itself, so the bearer
 * rules are exactly RFC 6750's: the token comes in the Authorization header
 * (GET or POST) or as a form field of a POST, never in the query string;
 * failures carry a `WWW-Authenticate: Bearer` challenge; a token without
 * `openid` is `insufficient_scope`; claims follow the granted scopes.
 */
export function userinfoHandler(deps: { bearer: BearerCache; db: Db; claims: ClaimSource }) {
  return async (c: Context) => {
    if (new URL(c.req.url).searchParams.has("access_token")) {
      return challenge(
        401,
        "invalid_token",
        "access tokens are accepted in the Authorization header or a form body only",
      );
    }
    const header = c.req.header("authorization");
    let token = header ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
    if (
      !token &&
      c.req.method === "POST" &&
      c.req.header("content-type")?.startsWith("application/x-www-form-urlencoded")
    ) {
      const value = (await c.req.parseBody()).access_token;
      token = typeof value === "string" && value ? value : undefined;
    }
    if (!token) return challenge(401);

    const grant = await deps.bearer.resolveFresh(token);
    if (!grant) return challenge(401, "invalid_token", "the access token is invalid, expired or revoked");
    if (!grant.scopes.includes(SCOPES.openid)) {
      return challenge(403, "insufficient_scope", "the access token was not granted the openid scope");
    }
    const rows = await deps.db.select().from(user).where(eq(user.id, grant.userId)).limit(1);
    const row = rows[0];
    if (!row) return challenge(401, "invalid_token", "the user no longer exists");
    const claims = await userInfoClaims(row, grant.scopes, deps.claims);
    return c.json({ sub: row.id, ...claims }, 200, { "cache-control": "no-store" });
  };
}

function challenge(status: 401 | 403, error?: string, description?: string): Response {
  const params = ['realm="marketplace"'];
  if (error) params.push(`error="${error}"`);
  if (description) params.push(`error_description="${description}"`);
  return new Response(
    JSON.stringify(error ? { error, error_description: description } : { error: "invalid_token" }),
    {
      status,
      headers: {
        "content-type": "application/json",
        "cache-control": "no-store",
        "www-authenticate": `Bearer ${params.join(", ")}`,
      },
    },
  );
}
