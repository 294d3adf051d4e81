export { CALLBACK_PATH, PROVIDER_ID } from "./auth.ts";
export { type ConsumeOptions, MarketplaceClient } from "./client.ts";
export { AgentKitConfigError, type AgentKitOptions } from "./config.ts";
export {
  MarketplaceError,
  MarketplaceUnavailableError,
  MetricNotFoundError,
  QuotaExceededError,
  SignInRequiredError,
  SubscriptionRequiredError,
} from "./errors.ts";
export { AgentKit, type AgentUser, AUTH_ROUTES, createAgentKit, type KitReply } from "./kit.ts";
export { agentKitMigrations } from "./migrations.ts";
export type { MarketplaceCallEvent, MarketplaceObserver, MarketplaceOperation } from "./observer.ts";
