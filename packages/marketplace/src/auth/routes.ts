import { Hono } from "hono";
import type { Db } from "../db/database.ts";
import { readJson } from "../http/read-json.ts";
import type { Auth } from "./auth.ts";
import { asRedirect, authorizePrecheck } from "./authorize-guard.ts";
import type { BearerCache } from "./bearer.ts";
import type { ClaimSource } from "./claims.ts";
import type { GrantGate } from "./grant-gate.ts";
import { userinfoHandler } from "./userinfo.ts";

/**
 * Serves better-auth under `/api/auth`, adjusted where the provider plugin
 * differs from the contract (CONTRACT.md §2, SECURITY-TESTS.md §A):
 * - RP-initiated logout lives at `/oauth2/endsession` (the plugin says `end-session`);
 *   discovery advertises the contract's path and the plugin's path is not served.
 * - RFC 7636 §4.6 and RFC 6749 §5.2: a failed PKCE check, a vanished user or
 *   session is `invalid_grant` (400), not the plugin's `invalid_request`/401.
 * - Code redemptions and refreshes go through the GrantGate: database locks
 *   across instances, code replay revocation and refresh-family invalidation
 *   in one statement each, banned users refused on refresh (never a 500).
 * - A malformed PKCE challenge is refused, and authorize always answers with a 302.
 * - A successful revocation drops the token from the bearer cache at once.
 */
export function authRoutes(deps: {
  auth: Auth;
  bearerCache: BearerCache;
  grantGate: GrantGate;
  db: Db;
  claims: ClaimSource;
  issuer: string;
}) {
  const { auth, bearerCache, grantGate, db, claims, issuer } = deps;
  const app = new Hono();
  const forward = (request: Request, path?: string) => {
    if (!path) return auth.handler(request);
    const url = new URL(request.url);
    url.pathname = path;
    return auth.handler(new Request(url, request));
  };

  app.all("/oauth2/end-session", (c) => c.json({ error: "not_found" }, 404));
  // F.11: logout is a front-channel navigation (OIDC RP-Initiated Logout §2): a 302, never the plugin's JSON.
  app.all("/oauth2/endsession", async (c) =>
    asRedirect(await forward(c.req.raw, "/api/auth/oauth2/end-session")),
  );

  app.get("/.well-known/openid-configuration", async (c) => patchDiscovery(await forward(c.req.raw)));
  app.get("/.well-known/oauth-authorization-server", async (c) => patchDiscovery(await forward(c.req.raw)));

  app.get("/jwks", async (c) => markSigningKeys(await forward(c.req.raw)));

  app.on(["GET", "POST"], "/oauth2/authorize", async (c) => {
    const params =
      c.req.method === "GET"
        ? new URL(c.req.url).searchParams
        : new URLSearchParams(await c.req.raw.clone().text());
    return (await authorizePrecheck(db, params, issuer)) ?? asRedirect(await forward(c.req.raw));
  });

  app.post("/oauth2/token", async (c) => {
    if (!c.req.header("content-type")?.toLowerCase().startsWith("application/x-www-form-urlencoded")) {
      return oauthError(
        400,
        "invalid_request",
        "the token endpoint accepts application/x-www-form-urlencoded only",
      );
    }
    const form = new URLSearchParams(await c.req.raw.clone().text());
    return grantGate.exchange(form, async () => toInvalidGrant(await forward(c.req.raw.clone())));
  });

  app.on(["GET", "POST"], "/oauth2/userinfo", userinfoHandler({ bearer: bearerCache, db, claims }));

  app.post("/oauth2/revoke", async (c) => {
    const form = new URLSearchParams(await c.req.raw.clone().text());
    const token = form.get("token");
    let response = await forward(c.req.raw.clone());
    // RFC 7009 §2.1: a wrong token_type_hint must not stop the search across token types.
    if (response.status === 400 && token && form.has("token_type_hint")) {
      form.delete("token_type_hint");
      response = await forward(new Request(c.req.raw, { body: form.toString() }));
    }
    // RFC 7009 §2.2: an unknown or already invalid token is not an error.
    if (response.status === 400 && token && (await oauthErrorOf(response)) === "invalid_request") {
      response = new Response(null, { status: 200, headers: { "cache-control": "no-store" } });
    }
    if (response.ok && token) await bearerCache.forget(token);
    return response;
  });

  app.all("*", (c) => forward(c.req.raw));
  return app;
}

/** RFC 8414 §3: the metadata of issuer `<base>/api/auth` is also served at `/.well-known/oauth-authorization-server/api/auth`. */
export const rootMetadataRoute = (auth: Auth) => async (c: { req: { raw: Request } }) =>
  patchDiscovery(await auth.handler(c.req.raw));

async function rewriteJson(
  response: Response,
  edit: (body: Record<string, unknown>) => void,
): Promise<Response> {
  const body = response.ok ? await readJson<Record<string, unknown>>(response) : null;
  if (!body) return response;
  edit(body);
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  return new Response(JSON.stringify(body), { status: response.status, headers });
}

/** RFC 7517 §4.2: every published key is a signing key. */
function markSigningKeys(response: Response): Promise<Response> {
  return rewriteJson(response, (jwks) => {
    for (const key of (jwks.keys as Record<string, unknown>[] | undefined) ?? []) key.use = "sig";
  });
}

function patchDiscovery(response: Response): Promise<Response> {
  return rewriteJson(response, (metadata) => {
    // Every agent is a public client (token_endpoint_auth_method "none", CONTRACT.md §2).
    const methods = metadata.token_endpoint_auth_methods_supported;
    if (Array.isArray(methods) && !methods.includes("none")) methods.unshift("none");
    if (typeof metadata.end_session_endpoint === "string") {
      metadata.end_session_endpoint = metadata.end_session_endpoint.replace(
        /\/oauth2\/end-session$/,
        "/oauth2/endsession",
      );
    }
  });
}

/** Descriptions of token-endpoint failures that RFC 6749 §5.2 calls `invalid_grant`. */
const INVALID_GRANT_DESCRIPTIONS = [
  /code_verifier/i,
  /code verification failed/i,
  /PKCE/i,
  /user may have been deleted/i,
  /redirect_uri/i,
  /session no longer exists/i,
];

async function oauthErrorOf(response: Response): Promise<string | undefined> {
  return (await readJson<{ error?: string }>(response))?.error;
}

function oauthError(status: number, error: string, description: string): Response {
  return new Response(JSON.stringify({ error, error_description: description }), {
    status,
    headers: { "content-type": "application/json", "cache-control": "no-store" },
  });
}

async function toInvalidGrant(response: Response): Promise<Response> {
  if (response.ok) return response;
  const body = await readJson<{ error?: string; error_description?: string }>(response);
  const description = body?.error_description ?? "";
  if (
    !body ||
    body.error === "invalid_grant" ||
    !INVALID_GRANT_DESCRIPTIONS.some((re) => re.test(description))
  )
    return response;
  const headers = new Headers(response.headers);
  headers.delete("content-length");
  headers.delete("www-authenticate");
  return new Response(JSON.stringify({ error: "invalid_grant", error_description: description }), {
    status: 400,
    headers,
  });
}
