/**
 * What agent-kit reports about its marketplace calls, for metrics. agent-kit
 * never imports a metrics library: the app passes an observer (see
 * apps/agent/server/metrics.ts for one over prom-client). Every method is
 * optional and must not throw; it runs on the request path, so keep it cheap.
 *
 * @example
 * createAgentKit({ ..., observer: { call: (e) => histogram.observe({ operation: e.operation }, e.seconds) } })
 */
export interface MarketplaceObserver {
  /** One logical call, all attempts included: its final status (`no_response`: network error or no token) and duration. */
  call?(event: MarketplaceCallEvent): void;
  /** A call is tried again: after a network error, a 503, or a 401 that forced a token refresh. */
  retry?(event: {
    operation: MarketplaceOperation;
    reason: "network_error" | "unavailable" | "unauthorized";
  }): void;
  /** `getTier()`: answered from memory (`hit`), fetched (`miss`), or stale from memory while the marketplace is down. */
  tierCache?(result: "hit" | "miss" | "stale"): void;
}

export type MarketplaceOperation = "subscription" | "usage" | "consume" | "release";

export interface MarketplaceCallEvent {
  operation: MarketplaceOperation;
  status: number | "no_response";
  attempts: number;
  seconds: number;
}
