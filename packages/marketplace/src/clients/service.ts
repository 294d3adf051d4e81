import { randomBytes, randomUUID } from "node:crypto";
import { AGENT_CLIENT_SCOPES, ALL_SCOPES } from "@amp/contract";
import { eq } from "drizzle-orm";
import { hashToken } from "../auth/bearer.ts";
import type { Db } from "../db/database.ts";
import { oauthClient } from "../db/schema.ts";

export interface NewClient {
  name: string;
  redirectUris: string[];
  postLogoutRedirectUris?: string[];
  /** First-party clients (every agent) skip the consent screen. @default true */
  skipConsent?: boolean;
  /** A confidential client gets a secret (shown once) and may introspect. @default false */
  confidential?: boolean;
  /**
   * An admin client (platform-admin automation) may be granted `marketplace:admin`;
   * every other client, and every agent's, is limited to the agent scopes. @default false
   */
  admin?: boolean;
}

export interface CreatedClient {
  clientId: string;
  clientSecret?: string;
  redirectUris: string[];
}

/**
 * Registers an OAuth client the way CONTRACT.md §2 provisions agents: public,
 * `token_endpoint_auth_method: none`, code + refresh grants, PKCE required,
 * RP-initiated logout enabled. Written directly (not through the plugin's
 * session-bound endpoints) so the CLI and the catalog can call it.
 */
export async function createClient(db: Db, input: NewClient): Promise<CreatedClient> {
  for (const uri of [...input.redirectUris, ...(input.postLogoutRedirectUris ?? [])]) assertAbsoluteUrl(uri);
  if (input.redirectUris.length === 0) throw new Error("at least one redirect URI is required");
  const clientId = randomBytes(24).toString("base64url");
  const secret = input.confidential ? randomBytes(32).toString("base64url") : undefined;
  const now = new Date();
  await db.insert(oauthClient).values({
    id: randomUUID(),
    clientId,
    name: input.name,
    disabled: false,
    skipConsent: input.skipConsent ?? true,
    enableEndSession: true,
    requirePKCE: true,
    tokenEndpointAuthMethod: secret ? "client_secret_basic" : "none",
    redirectUris: input.redirectUris,
    postLogoutRedirectUris: input.postLogoutRedirectUris ?? [],
    grantTypes: ["authorization_code", "refresh_token"],
    responseTypes: ["code"],
    scopes: [...(input.admin ? ALL_SCOPES : AGENT_CLIENT_SCOPES)],
    applicationType: "web",
    createdAt: now,
    updatedAt: now,
    ...(secret ? { clientSecret: hashToken(secret) } : {}),
  });
  return { clientId, redirectUris: input.redirectUris, ...(secret ? { clientSecret: secret } : {}) };
}

/** Disables or re-enables a client; a disabled client can neither authorize nor refresh. */
export async function setClientDisabled(db: Db, clientId: string, disabled: boolean): Promise<void> {
  await db
    .update(oauthClient)
    .set({ disabled, updatedAt: new Date() })
    .where(eq(oauthClient.clientId, clientId));
}

/** Mirrors an agent's registration onto its client: name, redirect URIs, enabled state. */
export async function syncClient(
  db: Db,
  clientId: string,
  input: { name: string; redirectUris: string[]; postLogoutRedirectUris: string[]; disabled: boolean },
): Promise<void> {
  for (const uri of [...input.redirectUris, ...input.postLogoutRedirectUris]) assertAbsoluteUrl(uri);
  await db
    .update(oauthClient)
    .set({ ...input, updatedAt: new Date() })
    .where(eq(oauthClient.clientId, clientId));
}

function assertAbsoluteUrl(uri: string) {
  let url: URL;
  try {
    url = new URL(uri);
  } catch {
    throw new Error(`not an absolute URL: ${uri}`);
  }
  if (url.hash) throw new Error(`redirect URIs must not contain a fragment: ${uri}`);
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new Error(`unsupported scheme: ${uri}`);
}
