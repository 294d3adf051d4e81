import { AgentKitConfigError, type ResolvedOptions } from "./config.ts";

export interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
  end_session_endpoint?: string;
  revocation_endpoint?: string;
  authorization_response_iss_parameter_supported?: boolean;
  [key: string]: unknown;
}

/** Endpoints this backend calls itself; the authorization and end-session endpoints are for browsers. */
const SERVER_ENDPOINTS = ["token_endpoint", "userinfo_endpoint", "jwks_uri", "revocation_endpoint"] as const;

/**
 * Reads the marketplace's OIDC discovery document (from the internal URL when one is set) and refuses to go
 * on when its issuer is not exactly the PUBLIC one (SECURITY-TESTS.md B.21): a wrong issuer means tokens
 * would be checked against the wrong authority. With an internal URL, the server-to-server endpoints that
 * sit under the public marketplace URL are rewritten to the same path under the internal one; endpoints
 * anywhere else (another host) and the browser-facing ones are left exactly as published.
 */
export async function discover(options: ResolvedOptions): Promise<Discovery> {
  const url = `${options.internalUrl}/api/auth/.well-known/openid-configuration`;
  const get = () => options.fetch(url, { signal: AbortSignal.timeout(10_000) });
  let response: Response;
  try {
    // One retry on a network error: a pooled keep-alive socket the server has just closed fails the first try.
    response = await get().catch(get);
  } catch (error) {
    throw new AgentKitConfigError(
      `Cannot reach the marketplace's discovery document at ${url}: ${(error as Error).message}`,
    );
  }
  if (!response.ok) throw new AgentKitConfigError(`Discovery at ${url} answered ${response.status}`);
  const doc = (await response.json().catch(() => null)) as Discovery | null;
  if (!doc || typeof doc !== "object")
    throw new AgentKitConfigError(`Discovery at ${url} is not a JSON document`);
  if (doc.issuer !== options.issuer) {
    throw new AgentKitConfigError(
      `Discovery at ${url} names issuer "${doc.issuer}", expected exactly "${options.issuer}"; refusing to start`,
    );
  }
  for (const key of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] as const) {
    if (typeof doc[key] !== "string") throw new AgentKitConfigError(`Discovery at ${url} has no ${key}`);
  }
  if (options.internalUrl === options.marketplaceUrl) return doc;
  const rewritten: Discovery = { ...doc };
  for (const key of SERVER_ENDPOINTS) {
    const value = doc[key];
    if (typeof value === "string") rewritten[key] = toInternal(value, options);
  }
  return rewritten;
}

/** `<marketplaceUrl>/x` → `<internalUrl>/x`; any other URL unchanged. */
export function toInternal(url: string, options: Pick<ResolvedOptions, "marketplaceUrl" | "internalUrl">) {
  const publicBase = `${options.marketplaceUrl}/`;
  return url.startsWith(publicBase) ? `${options.internalUrl}/${url.slice(publicBase.length)}` : url;
}
