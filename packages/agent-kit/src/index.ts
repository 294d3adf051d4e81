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
export type { MarketplaceCallEvent, MarketplaceObserver, MarketplaceOperation } from "./observer.ts";
export { CALLBACK_PATH, PROVIDER_ID } from "./provider.ts";
export {
  type AccountStore,
  type AgentKitStorage,
  type RefreshedTokens,
  StorageLockTimeoutError,
  type StoredAccount,
} from "./storage/types.ts";
export {
  type BrowserEvent,
  MARKETPLACE_EVENT_TYPES,
  type MarketplaceEvent,
  MarketplaceEventSchema,
} from "./webhooks/events.ts";
export { EVENT_ID_RETENTION_MS, type WebhookLedger } from "./webhooks/ledger.ts";
export { type WebhookOptions, type WebhookOutcome, WebhookReceiver } from "./webhooks/receiver.ts";
