import { eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { oauthClient } from "../db/schema.ts";
import { readJson } from "../http/read-json.ts";

/** RFC 7636 §4.2: BASE64URL(SHA256(verifier)) is exactly 43 characters of the base64url alphabet. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;

/**
 * Checks the provider plugin leaves to the caller (SECURITY-TESTS.md A.10):
 * a malformed `code_challenge` is `invalid_request`. The error goes back to
 * the client only when client and redirect URI are verified (exact match);
 * otherwise the request is passed on so the plugin shows its error page.
 */
export async function authorizePrecheck(
  db: Db,
  params: URLSearchParams,
  issuer: string,
): Promise<Response | null> {
  const challenge = params.get("code_challenge");
  if (challenge === null || S256_CHALLENGE.test(challenge)) return null;
  const clientId = params.get("client_id");
  const redirectUri = params.get("redirect_uri");
  if (!clientId || !redirectUri || params.getAll("redirect_uri").length > 1) return null;
  const rows = await db
    .select({ redirectUris: oauthClient.redirectUris, disabled: oauthClient.disabled })
    .from(oauthClient)
    .where(eq(oauthClient.clientId, clientId))
    .limit(1);
  const client = rows[0];
  if (!client || client.disabled || !client.redirectUris.includes(redirectUri)) return null;
  const target = new URL(redirectUri);
  target.searchParams.set("error", "invalid_request");
  target.searchParams.set("error_description", "code_challenge must be 43 base64url characters (S256)");
  const state = params.get("state");
  if (state !== null) target.searchParams.set("state", state);
  target.searchParams.set("iss", issuer);
  return new Response(null, {
    status: 302,
    headers: { location: target.toString(), "cache-control": "no-store" },
  });
}

/**
 * The plugin answers requests that do not look like browser navigations with
 * `{ redirect: true, url }`. The authorization endpoint is a front-channel
 * endpoint (RFC 6749 §3.1), so every caller gets the standard 302.
 */
export async function asRedirect(response: Response): Promise<Response> {
  if (response.status !== 200) return response;
  const body = await readJson<{ redirect?: boolean; url?: string }>(response);
  if (!body?.redirect || !body.url) return response;
  const headers = new Headers(response.headers);
  headers.delete("content-type");
  headers.delete("content-length");
  headers.set("location", body.url);
  headers.set("cache-control", "no-store");
  return new Response(null, { status: 302, headers });
}
