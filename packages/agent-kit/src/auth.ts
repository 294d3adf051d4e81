import { CLAIMS } from "@amp/contract";
import { betterAuth } from "better-auth";
import { genericOAuth } from "better-auth/plugins";
import { AgentKitConfigError, DEFAULT_EXPIRES_IN, type ResolvedOptions } from "./config.ts";
import type { Discovery } from "./discovery.ts";
import { authenticatedWithin, type IdTokenVerifier } from "./id-token.ts";
import { CALLBACK_PATH, PROVIDER_ID } from "./provider.ts";

export { CALLBACK_PATH, PROVIDER_ID };

/** The parts of better-auth's configuration that shape its tables (scripts/generate-schema.ts reads them). */
export const AUTH_SCHEMA_OPTIONS = {
  user: { additionalFields: { marketplaceRole: { type: "string", required: false, input: false } } },
} as const;

/**
 * better-auth for the agent: its own session cookie and the marketplace as
 * the only sign-in provider (genericOAuth via discovery, PKCE S256, state and
 * nonce, ID-token verification required). The profile comes from a verified
 * ID token plus userinfo whose `sub` must match it.
 */
export function createAgentAuth(options: ResolvedOptions, discovery: Discovery, verifier: IdTokenVerifier) {
  const crossOrigin = options.cookieMode === "cross-origin";
  return betterAuth({
    appName: "agent",
    baseURL: options.baseURL,
    basePath: "/api/auth",
    secret: options.secret,
    database: options.storage.authDatabase,
    telemetry: { enabled: false },
    trustedOrigins: [options.baseURL, ...(options.frontendOrigin ? [options.frontendOrigin] : [])],
    // Password sign-in is off: the marketplace is the only way in.
    emailAndPassword: { enabled: false },
    account: { encryptOAuthTokens: true, accountLinking: { enabled: false } },
    // The signed cookie cache answers most session reads without a database round trip; a session ended
    // elsewhere stays usable here for at most `maxAge` seconds. Signing out here clears it at once.
    session: { expiresIn: 30 * 86_400, updateAge: 86_400, cookieCache: { enabled: true, maxAge: 60 } },
    ...AUTH_SCHEMA_OPTIONS,
    advanced: {
      cookiePrefix: options.cookiePrefix,
      useSecureCookies: crossOrigin || options.baseURL.startsWith("https://"),
      defaultCookieAttributes: crossOrigin
        ? { sameSite: "none", secure: true, httpOnly: true, path: "/" }
        : { sameSite: "lax", httpOnly: true, path: "/" },
    },
    plugins: [
      useVerifiedJwks(
        verifier,
        genericOAuth({
          config: [
            {
              providerId: PROVIDER_ID,
              clientId: options.clientId,
              tokenEndpointAuth: { method: "none" },
              // Read again by better-auth at startup for its own ID-token checks (issuer, audience, nonce);
              // from the internal URL when there is one (see useVerifiedJwks below for its JWKS).
              discoveryUrl: `${options.internalUrl}/api/auth/.well-known/openid-configuration`,
              authorizationUrl: discovery.authorization_endpoint,
              tokenUrl: discovery.token_endpoint,
              userInfoUrl: discovery.userinfo_endpoint,
              pkce: true,
              requireIdTokenVerification: true,
              redirectURI: `${options.baseURL}${CALLBACK_PATH}`,
              scopes: options.scopes,
              ...(options.maxAge === undefined
                ? {}
                : { authorizationUrlParams: { max_age: String(options.maxAge) } }),
              // B.24: a token response without `expires_in` is taken to last an hour, not forever.
              accessTokenExpiresIn: DEFAULT_EXPIRES_IN,
              overrideUserInfo: true,
              async getUserInfo(tokens) {
                // Verified first; an ID token we reject never leads to a userinfo call (B.23).
                if (!tokens.idToken) return null;
                const claims = await verifier.verify(tokens.idToken).catch(() => null);
                if (!claims) return null;
                if (options.maxAge !== undefined && !authenticatedWithin(claims.auth_time, options.maxAge))
                  return null; // B.20
                const response = await options.fetch(discovery.userinfo_endpoint, {
                  headers: { authorization: `Bearer ${tokens.accessToken}` },
                  signal: AbortSignal.timeout(options.requestTimeoutMs),
                });
                if (!response.ok) return null;
                const info = (await response.json()) as Record<string, unknown>;
                if (info.sub !== claims.sub) return null; // B.22
                const merged = { ...claims, ...info };
                return {
                  id: claims.sub,
                  sub: claims.sub,
                  email: String(merged.email ?? ""),
                  emailVerified: Boolean(merged.email_verified),
                  name: String(merged.name ?? merged.email ?? ""),
                  image: typeof merged.picture === "string" ? merged.picture : undefined,
                  [CLAIMS.role]: merged[CLAIMS.role],
                };
              },
              mapProfileToUser: (profile) => ({
                email: profile.email,
                name: profile.name,
                image: profile.image,
                marketplaceRole: profile[CLAIMS.role] ?? "org_member",
              }),
            },
          ],
        }),
      ),
    ],
  });
}

/**
 * better-auth checks the callback's ID token (signature, issuer, audience, nonce) with a JWKS it builds from
 * the discovery document's `jwks_uri` as published, which is the public URL. This hands it agent-kit's key
 * set instead: the same cache as agent-kit's own checks, fetched from the internal URL when there is one.
 * The provider shape is better-auth 1.7.7's (pinned); a change fails here at startup, not at sign-in.
 */
function useVerifiedJwks<P extends ReturnType<typeof genericOAuth>>(verifier: IdTokenVerifier, plugin: P): P {
  const init = plugin.init.bind(plugin);
  return {
    ...plugin,
    init: async (ctx: Parameters<typeof init>[0]) => {
      const result = await init(ctx);
      const provider = result.context.socialProviders.find((p) => p.id === PROVIDER_ID) as
        | { idToken?: { jwks: unknown; issuer: string } }
        | undefined;
      if (!provider?.idToken?.jwks)
        throw new AgentKitConfigError(
          "better-auth did not set up ID-token verification for the marketplace (discovery unreachable?)",
        );
      provider.idToken.jwks = verifier.jwks;
      return result;
    },
  };
}

export type AgentAuth = ReturnType<typeof createAgentAuth>;
