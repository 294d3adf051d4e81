/** better-auth's provider id for the marketplace (the `providerId` of its `account` rows). */
export const PROVIDER_ID = "marketplace";
/** The callback registered with the marketplace (CONTRACT.md §8). */
export const CALLBACK_PATH = "/api/auth/oauth2/callback/marketplace";
