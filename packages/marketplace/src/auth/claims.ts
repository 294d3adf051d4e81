import { CLAIMS, DEFAULT_ROLE, SCOPES } from "@amp/contract";

/**
 * Where the identity provider reads the billing facts it puts in tokens.
 * The billing layer provides the real implementation; until it exists the
 * maps are empty, which is what the contract says a user without
 * subscriptions gets.
 */
export interface ClaimSource {
  /** `{ [agentId]: tierName }` of the user's active/trialing subscriptions. */
  agentTiers(userId: string): Promise<Record<string, string>>;
  /** Ids of agents the user has installed or subscribed to. */
  installs(userId: string): Promise<string[]>;
}

export const emptyClaimSource: ClaimSource = {
  agentTiers: async () => ({}),
  installs: async () => [],
};

interface ClaimUser {
  id: string;
  name: string;
  email: string;
  emailVerified: boolean;
  image?: string | null;
  role?: unknown;
}

/** ID-token claims per granted scope (CONTRACT.md §2). `marketplace:installs` never goes here. */
export async function idTokenClaims(user: ClaimUser, scopes: readonly string[], source: ClaimSource) {
  const claims: Record<string, unknown> = {};
  if (scopes.includes(SCOPES.profile)) {
    claims.name = user.name;
    if (user.image) claims.picture = user.image;
  }
  if (scopes.includes(SCOPES.email)) {
    claims.email = user.email;
    claims.email_verified = user.emailVerified;
  }
  if (scopes.includes(SCOPES.role)) claims[CLAIMS.role] = roleOf(user);
  if (scopes.includes(SCOPES.agentTiers)) claims[CLAIMS.agentTiers] = await source.agentTiers(user.id);
  return claims;
}

/** Userinfo claims beyond the standard ones the provider already adds: the ID token's, plus the installs. */
export async function userInfoClaims(user: ClaimUser, scopes: readonly string[], source: ClaimSource) {
  const claims = await idTokenClaims(user, scopes, source);
  if (scopes.includes(SCOPES.installs)) claims[CLAIMS.installs] = await source.installs(user.id);
  return claims;
}

function roleOf(user: ClaimUser): string {
  return typeof user.role === "string" && user.role ? user.role : DEFAULT_ROLE;
}
