import { createRemoteJWKSet, customFetch, type JWTPayload, jwtVerify } from "jose";

export interface IdTokenVerifier {
  verify(token: string): Promise<JWTPayload & { sub: string }>;
  /** The issuer's key set (cached, refetched on an unknown `kid` at most once per cooldown). */
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

/** How old a freshly issued ID token may be when it reaches us (it was minted seconds ago). */
const MAX_AGE_SECONDS = 3_600;
const CLOCK_TOLERANCE_SECONDS = 60;

/**
 * Strict ID-token verification (SECURITY-TESTS.md B.9–B.19), independent of
 * whatever the sign-in library also checks: EdDSA only (no `none`, no HS256
 * confusion), exact issuer, our client id as the only audience, exp/iat/sub
 * required, iat neither in the future nor old. Keys come from the JWKS with
 * jose's cache: an unknown `kid` triggers at most one refetch per cooldown.
 */
export function idTokenVerifier(opts: {
  jwksUri: string;
  issuer: string;
  clientId: string;
  fetch?: typeof fetch;
  /** Minimum time between JWKS refetches triggered by an unknown `kid`. @default 60000 */
  cooldownMs?: number;
}): IdTokenVerifier {
  const jwks = createRemoteJWKSet(new URL(opts.jwksUri), {
    cooldownDuration: opts.cooldownMs ?? 60_000,
    cacheMaxAge: 300_000,
    ...(opts.fetch ? { [customFetch]: opts.fetch } : {}),
  });
  return {
    jwks,
    async verify(token) {
      const { payload } = await jwtVerify(token, jwks, {
        issuer: opts.issuer,
        audience: opts.clientId,
        algorithms: ["EdDSA"],
        requiredClaims: ["iss", "sub", "aud", "exp", "iat"],
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
      });
      const now = Math.floor(Date.now() / 1000);
      const audiences = Array.isArray(payload.aud) ? payload.aud : [payload.aud];
      if (audiences.some((a) => a !== opts.clientId))
        throw new Error("ID token has an audience other than this client");
      if (payload.azp !== undefined && payload.azp !== opts.clientId)
        throw new Error("ID token azp is not this client");
      const iat = payload.iat!;
      if (iat > now + CLOCK_TOLERANCE_SECONDS) throw new Error("ID token issued in the future");
      if (iat < now - MAX_AGE_SECONDS) throw new Error("ID token is too old");
      if (typeof payload.sub !== "string" || !payload.sub) throw new Error("ID token has no subject");
      return payload as JWTPayload & { sub: string };
    },
  };
}

/**
 * OIDC Core §3.1.2.1 / §2 (B.20): with `max_age` sent, the ID token must carry `auth_time`, and the
 * authentication it records must be no older than `maxAge` seconds (with the usual clock tolerance).
 */
export function authenticatedWithin(authTime: unknown, maxAge: number): boolean {
  if (typeof authTime !== "number" || !Number.isFinite(authTime)) return false;
  const now = Math.floor(Date.now() / 1000);
  return authTime <= now + CLOCK_TOLERANCE_SECONDS && now - authTime <= maxAge + CLOCK_TOLERANCE_SECONDS;
}
