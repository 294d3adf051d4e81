import { ErrorEnvelopeSchema, QuotaExceededDetailsSchema } from "@amp/contract";

/**
 * agent-kit's error family, keyed by a stable `code`. One factory
 * (`marketplaceErrorFrom`) picks the subclass from a marketplace response;
 * the raw response is kept non-enumerable so logging an error never dumps it.
 */
export class MarketplaceError extends Error {
  override name = "MarketplaceError";
  readonly code: string;
  readonly status: number;
  readonly requestId: string | undefined;
  declare readonly response?: Response;
  constructor(code: string, message: string, status: number, requestId?: string, response?: Response) {
    super(message);
    this.code = code;
    this.status = status;
    this.requestId = requestId;
    if (response) Object.defineProperty(this, "response", { value: response, enumerable: false });
  }
}

/** The user must sign in (again): no session, no tokens, or the refresh token is no longer valid. */
export class SignInRequiredError extends MarketplaceError {
  override name = "SignInRequiredError";
  constructor(
    message = "Sign in to continue.",
    readonly signInUrl?: string,
  ) {
    super("SIGN_IN_REQUIRED", message, 401);
  }
}

/** 402: no active or trialing subscription. */
export class SubscriptionRequiredError extends MarketplaceError {
  override name = "SubscriptionRequiredError";
  constructor(
    readonly upgradeUrl: string,
    requestId?: string,
  ) {
    super("PAYMENT_REQUIRED", "A subscription is required.", 402, requestId);
  }
}

/** 429: the consume would exceed the effective quota. */
export class QuotaExceededError extends MarketplaceError {
  override name = "QuotaExceededError";
  constructor(
    readonly remaining: number,
    readonly resetsAt: string | null,
    readonly effectiveQuota: number,
    readonly upgradeUrl: string,
    requestId?: string,
  ) {
    super("QUOTA_EXCEEDED", "The quota is exhausted.", 429, requestId);
  }
}

/** 404: the metric (or agent) is unknown to the marketplace — a configuration error in the agent. */
export class MetricNotFoundError extends MarketplaceError {
  override name = "MetricNotFoundError";
  constructor(message: string, requestId?: string) {
    super("NOT_FOUND", message, 404, requestId);
  }
}

/** The marketplace is down, slow or answered 5xx; the action must not run. Retry later. */
export class MarketplaceUnavailableError extends MarketplaceError {
  override name = "MarketplaceUnavailableError";
  constructor(message = "The marketplace is unavailable; try again shortly.", cause?: unknown) {
    super("SERVICE_UNAVAILABLE", message, 503);
    if (cause) this.cause = cause;
  }
}

/** Builds the right error from a marketplace error response (CONTRACT.md §4). */
export async function marketplaceErrorFrom(
  response: Response,
  upgradeUrl: string,
): Promise<MarketplaceError> {
  const parsed = ErrorEnvelopeSchema.safeParse(
    await response
      .clone()
      .json()
      .catch(() => null),
  );
  const requestId = parsed.success
    ? parsed.data.requestId
    : (response.headers.get("x-request-id") ?? undefined);
  if (!parsed.success) {
    return response.status >= 500
      ? new MarketplaceUnavailableError(`The marketplace answered ${response.status}.`)
      : new MarketplaceError(
          "UNEXPECTED",
          `The marketplace answered ${response.status}.`,
          response.status,
          requestId,
          response,
        );
  }
  const { code, message, details } = parsed.data.error;
  switch (code) {
    case "QUOTA_EXCEEDED": {
      const d = QuotaExceededDetailsSchema.parse(details);
      return new QuotaExceededError(d.remaining, d.resetsAt, d.effectiveQuota, upgradeUrl, requestId);
    }
    case "PAYMENT_REQUIRED":
      return new SubscriptionRequiredError(upgradeUrl, requestId);
    case "NOT_FOUND":
      return new MetricNotFoundError(message, requestId);
    case "UNAUTHORIZED":
      return new SignInRequiredError(message);
    case "SERVICE_UNAVAILABLE":
    case "INTERNAL_ERROR":
      return new MarketplaceUnavailableError(message);
    default:
      return new MarketplaceError(code, message, response.status, requestId, response);
  }
}
