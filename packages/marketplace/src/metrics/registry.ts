import type { PoolStats } from "@amp/db";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

/** Seconds; from a cached read (~1 ms) to a slow Stripe call or a stuck statement (10 s). */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The marketplace's Prometheus metrics. One registry per app instance (not
 * prom-client's global one), so several marketplaces in one process (tests)
 * never share or clash on counters. Label values are bounded: route
 * templates, never raw paths; known grant types and RFC 6749 error codes.
 */
export class MarketplaceMetrics {
  readonly registry = new Registry();

  readonly httpRequests = new Counter({
    name: "marketplace_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });

  readonly httpDuration = new Histogram({
    name: "marketplace_http_request_duration_seconds",
    help: "HTTP request latency, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly usageOperations = new Counter({
    name: "marketplace_usage_operations_total",
    help: "Consume and release calls by agent, operation and outcome (ok, 402, 404, 409, 422, 429, 5xx…).",
    labelNames: ["agent", "operation", "outcome"] as const,
    registers: [this.registry],
  });

  readonly usageBatchSize = new Histogram({
    name: "marketplace_usage_batch_size",
    help: "Consumes or releases committed together in one transaction (group commit), by operation.",
    labelNames: ["operation"] as const,
    buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256],
    registers: [this.registry],
  });

  readonly usageBatchFailures = new Counter({
    name: "marketplace_usage_batch_failures_total",
    help: "Group commits whose transaction failed as a whole; each of their items was retried alone.",
    labelNames: ["operation"] as const,
    registers: [this.registry],
  });

  readonly tokenRequests = new Counter({
    name: "marketplace_oauth_token_requests_total",
    help: "Token endpoint requests by grant type, result (granted/failed) and RFC 6749 error.",
    labelNames: ["grant_type", "result", "error"] as const,
    registers: [this.registry],
  });

  readonly grantReplays = new Counter({
    name: "marketplace_oauth_grant_replays_total",
    help: "Theft signals acted on: replayed authorization codes and reused rotated-out refresh tokens.",
    labelNames: ["kind"] as const,
    registers: [this.registry],
  });

  readonly queryDuration = new Histogram({
    name: "marketplace_db_query_duration_seconds",
    help: "Hot-path SQL (consume, release, usage reads) by statement name, pool wait included.",
    labelNames: ["statement"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });

  readonly webhookEvents = new Counter({
    name: "marketplace_stripe_webhook_events_total",
    help: "Stripe webhook deliveries by event type and outcome (processed, failed, duplicate, invalid_signature).",
    labelNames: ["type", "outcome"] as const,
    registers: [this.registry],
  });

  /** `marketplace_usage_batch_queued`: consumes and releases waiting for a group-commit slot, read at scrape time. */
  observeUsageQueue(queued: () => number) {
    new Gauge({
      name: "marketplace_usage_batch_queued",
      help: "Consumes and releases waiting for a group-commit slot.",
      registers: [this.registry],
      collect() {
        this.set(queued());
      },
    });
  }

  /** @param poolStats the database pool's state, read at scrape time; PGlite has no pool and no pool gauges. */
  constructor(poolStats: () => PoolStats | null = () => null) {
    collectDefaultMetrics({ register: this.registry });
    if (poolStats() === null) return;
    // Read at scrape time: a gauge that is set on every checkout would cost the hot path.
    const pool = (pick: (s: PoolStats) => number) =>
      function (this: Gauge) {
        const stats = poolStats();
        if (stats) this.set(pick(stats));
      };
    new Gauge({
      name: "marketplace_db_pool_connections",
      help: "Connections the PostgreSQL pool holds (in use + idle).",
      registers: [this.registry],
      collect: pool((s) => s.total),
    });
    new Gauge({
      name: "marketplace_db_pool_max",
      help: "The PostgreSQL pool's size limit (DATABASE_POOL_SIZE).",
      registers: [this.registry],
      collect: pool((s) => s.max),
    });
    new Gauge({
      name: "marketplace_db_pool_in_use",
      help: "PostgreSQL pool connections checked out by a query or transaction.",
      registers: [this.registry],
      collect: pool((s) => s.total - s.idle),
    });
    new Gauge({
      name: "marketplace_db_pool_waiting",
      help: "Queries waiting for a PostgreSQL pool connection (saturation).",
      registers: [this.registry],
      collect: pool((s) => s.waiting),
    });
  }
}
