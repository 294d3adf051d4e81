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
}

/**
 * Reads the marketplace's OIDC discovery document and refuses to go on when
 * its issuer is not exactly the configured one (SECURITY-TESTS.md B.21): a
 * wrong issuer means tokens would be checked against the wrong authority.
 */
export async function discover(options: ResolvedOptions): Promise<Discovery> {
  const url = `${options.issuer}/.well-known/openid-configuration`;
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
  const doc = (await response.json()) as Discovery;
  if (doc.issuer !== options.issuer) {
    throw new AgentKitConfigError(
      `Discovery at ${url} names issuer "${doc.issuer}", expected exactly "${options.issuer}"; refusing to start`,
    );
  }
  for (const key of ["authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri"] as const) {
    if (typeof doc[key] !== "string") throw new AgentKitConfigError(`Discovery at ${url} has no ${key}`);
  }
  return doc;
}
