import {
  MarketplaceError,
  MarketplaceUnavailableError,
  MetricNotFoundError,
  QuotaExceededError,
  SignInRequiredError,
  SubscriptionRequiredError,
} from "../errors.ts";

/** An HTTP answer in framework-neutral form; adapters write it out. */
export interface KitReply {
  status: number;
  body: Record<string, unknown>;
}

/**
 * Maps a marketplace failure to what the agent answers its own client (CONTRACT.md §8). Anything that is not
 * a marketplace failure is rethrown: it is the app's bug, for its error handler.
 */
export function replyFor(error: unknown, links: { upgradeUrl: string; signInUrl: string }): KitReply {
  if (error instanceof QuotaExceededError) {
    return {
      status: 429,
      body: {
        error: "quota_exceeded",
        upgradeUrl: links.upgradeUrl,
        resetsAt: error.resetsAt,
        remaining: error.remaining,
        effectiveQuota: error.effectiveQuota,
      },
    };
  }
  if (error instanceof SubscriptionRequiredError)
    return {
      status: 402,
      body: { error: "subscription_required", subscribe: true, upgradeUrl: links.upgradeUrl },
    };
  if (error instanceof SignInRequiredError)
    return { status: 401, body: { error: "sign_in_required", signInUrl: links.signInUrl } };
  if (error instanceof MarketplaceUnavailableError)
    return {
      status: 503,
      body: { error: "try_again", message: "The marketplace is unavailable; try again shortly." },
    };
  if (error instanceof MetricNotFoundError)
    return { status: 500, body: { error: "metric_not_configured", message: error.message } };
  if (error instanceof MarketplaceError)
    return { status: 502, body: { error: "marketplace_error", code: error.code } };
  throw error;
}
