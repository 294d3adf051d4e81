import type { RateLimitRule } from "./store.ts";

/**
 * Every rate limit of the marketplace, in one table (docs/operations.md).
 *
 * better-auth's own limiter applies `AUTH_RULES` to every request that
 * reaches its handler — `/api/auth/*` and the sign-in/sign-up pages, which
 * call the handler themselves — keyed per real client address
 * (http/client-address.ts) and path, counted in our shared store.
 */
export const AUTH_RULES = {
  /** The rest of `/api/auth`, per address and path. */
  default: { window: 60, max: 300 },
  customRules: {
    // Password guessing: one client address gets 10 attempts a minute, and only that client is refused.
    "/sign-in/*": { window: 60, max: 10 },
    "/sign-up/*": { window: 60, max: 10 },
    "/change-password": { window: 60, max: 10 },
    "/change-email": { window: 60, max: 10 },
    "/request-password-reset": { window: 60, max: 3 },
    // Called by an agent's backend for all of its users from one address.
    "/oauth2/userinfo": { window: 60, max: 3_000 },
    "/oauth2/revoke": { window: 60, max: 3_000 },
    "/oauth2/introspect": { window: 60, max: 3_000 },
    // Limited per client and grant by the token middleware (TOKEN_RULES), never per address:
    // every callback of an agent comes from the agent's address.
    "/oauth2/token": false,
  },
} satisfies { default: RateLimitRule; customRules: Record<string, RateLimitRule | false> };

/**
 * The token endpoint, per (client_id, grant_type). A request presenting a
 * live code or refresh token spends `known`; anything else (a forged,
 * expired or replayed grant) spends the small `unknown` budget, so a flood
 * of forgeries cannot spend the budget of real redemptions and refreshes.
 */
export const TOKEN_RULES = {
  known: { window: 60, max: 1_200 },
  unknown: { window: 60, max: 30 },
  /** Failures per client address too, whatever client id they name (never applied to live grants). */
  unknownPerAddress: { window: 60, max: 300 },
} satisfies Record<string, RateLimitRule>;
