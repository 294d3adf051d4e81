import { randomUUID } from "node:crypto";
import {
  type MetricUsageDto,
  MetricUsageDtoSchema,
  type SubscriptionDto,
  SubscriptionDtoSchema,
  successEnvelope,
  type UsageResultDto,
  UsageResultDtoSchema,
} from "@amp/contract";
import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { z } from "zod";
import type { BoundedCache } from "./cache.ts";
import {
  MarketplaceError,
  MarketplaceUnavailableError,
  marketplaceErrorFrom,
  SignInRequiredError,
  SubscriptionRequiredError,
} from "./errors.ts";
import type { MarketplaceObserver, MarketplaceOperation } from "./observer.ts";
import type { TokenManager } from "./tokens.ts";

export interface ClientDeps {
  /** The public marketplace URL (for links a browser follows). */
  marketplaceUrl: string;
  /** Where this backend calls the marketplace API (the internal URL when set). */
  apiUrl: string;
  agentId: string;
  agentSlug: string;
  tokens: TokenManager;
  fetch: typeof fetch;
  requestTimeoutMs: number;
  maxAttempts: number;
  tierCacheMs: number;
  tierCache: BoundedCache<string, { value: SubscriptionDto; until: number }>;
  observer?: MarketplaceObserver;
}

export interface ConsumeOptions {
  /** One id per logical attempt; made for you (a fresh UUID) unless given. Retries reuse it. */
  clientReqId?: string;
  metadata?: Record<string, unknown>;
}

/**
 * The marketplace, as seen by one signed-in user of this agent: tier,
 * usage, consume/release and boolean features. Every response is parsed with
 * the contract's schemas; failures are typed errors (see errors.ts).
 */
export class MarketplaceClient {
  constructor(
    private readonly deps: ClientDeps,
    readonly userId: string,
  ) {}

  /** Where to send a user to subscribe or upgrade. */
  get upgradeUrl() {
    return `${this.deps.marketplaceUrl}/pricing/${this.deps.agentSlug}`;
  }

  /** The live subscription; throws SubscriptionRequiredError when there is none (404 from the marketplace). */
  async getSubscription(): Promise<SubscriptionDto> {
    const response = await this.call("subscription", "GET", `/me/subscriptions/${this.deps.agentId}`);
    if (response.status === 404) throw new SubscriptionRequiredError(this.upgradeUrl);
    return this.parse(response, SubscriptionDtoSchema);
  }

  /**
   * The live subscription, cached per user for `tierCacheMs`. When the
   * marketplace is unreachable a cached value is served even if stale, so
   * pages keep rendering; permission checks never rely on it (they consume).
   */
  async getTier(opts: { refresh?: boolean } = {}): Promise<SubscriptionDto> {
    const cached = this.deps.tierCache.get(this.userId);
    if (!opts.refresh && cached && cached.until > Date.now()) {
      this.deps.observer?.tierCache?.("hit");
      return cached.value;
    }
    try {
      const value = await this.getSubscription();
      this.deps.observer?.tierCache?.("miss");
      this.deps.tierCache.set(this.userId, { value, until: Date.now() + this.deps.tierCacheMs });
      return value;
    } catch (error) {
      if (error instanceof MarketplaceUnavailableError && cached) {
        this.deps.observer?.tierCache?.("stale");
        return cached.value;
      }
      if (error instanceof SubscriptionRequiredError) this.deps.tierCache.delete(this.userId);
      throw error;
    }
  }

  async getUsage(): Promise<MetricUsageDto[]>;
  async getUsage(slug: string): Promise<MetricUsageDto>;
  async getUsage(slug?: string): Promise<MetricUsageDto | MetricUsageDto[]> {
    const path = `/me/agents/${this.deps.agentId}/usage${slug ? `/${encodeURIComponent(slug)}` : ""}`;
    const response = await this.call("usage", "GET", path);
    return slug
      ? this.parse(response, MetricUsageDtoSchema)
      : this.parse(response, z.array(MetricUsageDtoSchema));
  }

  /** Boolean feature gate: on when the metric's effective quota is above zero (never a tier name). */
  async feature(slug: string): Promise<boolean> {
    const usage = await this.getUsage(slug);
    return usage.effectiveQuota === null || usage.effectiveQuota > 0;
  }

  /**
   * Charges `delta` units before an action. Network errors and 503 are
   * retried with the same `clientReqId` (bounded, with backoff), so a retry
   * after a lost response is charged once. 429/402/404 are not retried.
   */
  async consume(slug: string, delta = 1, opts: ConsumeOptions = {}): Promise<UsageResultDto> {
    const body = {
      delta,
      clientReqId: opts.clientReqId ?? randomUUID(),
      ...(opts.metadata ? { metadata: opts.metadata } : {}),
    };
    const response = await this.call(
      "consume",
      "POST",
      `/me/agents/${this.deps.agentId}/usage/${encodeURIComponent(slug)}/consume`,
      body,
    );
    return this.parse(response, UsageResultDtoSchema);
  }

  /** Frees fixed units, e.g. `release("knowledge-bases", 1, { clientReqId: \`release-${kbId}\` })`. */
  async release(slug: string, delta: number, opts: { clientReqId: string }): Promise<UsageResultDto> {
    const body = { delta, clientReqId: opts.clientReqId };
    const response = await this.call(
      "release",
      "POST",
      `/me/agents/${this.deps.agentId}/usage/${encodeURIComponent(slug)}/release`,
      body,
    );
    return this.parse(response, UsageResultDtoSchema);
  }

  private async parse<T extends z.ZodType>(response: Response, schema: T): Promise<z.infer<T>> {
    if (!response.ok) throw await marketplaceErrorFrom(response, this.upgradeUrl);
    const parsed = successEnvelope(schema).safeParse(await response.json().catch(() => null));
    if (!parsed.success)
      throw new MarketplaceError(
        "UNEXPECTED",
        "The marketplace answered in an unexpected shape.",
        response.status,
      );
    return (parsed.data as { data: z.infer<T> }).data;
  }

  /**
   * One marketplace call with the user's bearer token. A 401 gets exactly one
   * forced refresh and retry, then SignInRequiredError. Network errors and
   * 503 are retried up to `maxAttempts` with exponential backoff and jitter.
   * The call (all its attempts) is one CLIENT span, child of whatever span is
   * active (the agent's request), and each attempt carries its W3C
   * `traceparent`, so the marketplace's spans join the same trace. Without a
   * registered OpenTelemetry SDK both are no-ops.
   */
  private call(
    operation: MarketplaceOperation,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<Response> {
    return tracer().startActiveSpan(
      `marketplace ${operation}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          "http.request.method": method,
          "server.address": new URL(this.deps.apiUrl).hostname,
          "marketplace.operation": operation,
        },
      },
      async (span) => {
        const started = performance.now();
        let status: number | "no_response" = "no_response";
        let attempts = 0;
        try {
          const response = await this.send(operation, method, path, body, () => attempts++);
          status = response.status;
          return response;
        } finally {
          span.setAttribute("marketplace.attempts", attempts);
          if (typeof status === "number") span.setAttribute("http.response.status_code", status);
          if (status === "no_response" || status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
          span.end();
          this.deps.observer?.call?.({
            operation,
            status,
            attempts,
            seconds: (performance.now() - started) / 1000,
          });
        }
      },
    );
  }

  private async send(
    operation: MarketplaceOperation,
    method: string,
    path: string,
    body: unknown,
    sending: () => void,
  ): Promise<Response> {
    let token = await this.deps.tokens.getAccessToken(this.userId);
    let refreshed = false;
    for (let attempt = 1; ; attempt++) {
      let response: Response;
      sending();
      const headers: Record<string, string> = {
        authorization: `Bearer ${token}`,
        accept: "application/json",
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      };
      propagation.inject(context.active(), headers);
      try {
        response = await this.deps.fetch(`${this.deps.apiUrl}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(this.deps.requestTimeoutMs),
        });
      } catch (error) {
        if (attempt >= this.deps.maxAttempts) throw new MarketplaceUnavailableError(undefined, error);
        this.deps.observer?.retry?.({ operation, reason: "network_error" });
        await backoff(attempt);
        continue;
      }
      if (response.status === 401 && !refreshed) {
        refreshed = true;
        this.deps.observer?.retry?.({ operation, reason: "unauthorized" });
        token = await this.deps.tokens.getAccessToken(this.userId, { forceRefresh: true });
        attempt--;
        continue;
      }
      if (response.status === 401)
        throw new SignInRequiredError("The marketplace no longer accepts this session.");
      if (response.status === 503 && attempt < this.deps.maxAttempts) {
        this.deps.observer?.retry?.({ operation, reason: "unavailable" });
        await backoff(attempt);
        continue;
      }
      return response;
    }
  }
}

// Looked up per use: a tracer taken before the SDK is (re)registered would keep the old one.
const tracer = () => trace.getTracer("@amp/agent-kit");

/** 100 ms, 200 ms, 400 ms… capped at 1 s, with full jitter. */
function backoff(attempt: number) {
  const cap = Math.min(1_000, 100 * 2 ** (attempt - 1));
  return new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
}
