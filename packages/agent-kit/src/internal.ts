/** First-party-only surface (tests, the reference agent's tooling). Not part of the public API. */
export { idTokenVerifier } from "./id-token.ts";
export { TokenManager } from "./tokens.ts";
