import { createHash, timingSafeEqual } from "node:crypto";
import type { MarketplaceObserver } from "@amp/agent-kit";
import type { Request, RequestHandler, Response } from "express";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";

const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Who may scrape `GET /metrics` (config.ts): with METRICS_TOKEN, only
 * `Authorization: Bearer <token>`; without one, open outside production and
 * not served in production. Same rule as the marketplace's.
 */
export type MetricsAccess = { token: string } | "open" | "off";

/**
 * The agent's Prometheus metrics: its HTTP routes, and — through agent-kit's
 * observer — its marketplace calls, retries and tier-cache lookups; plus the
 * SSE answers streaming right now. One registry per app (tests run several).
 */
export class AgentMetrics {
  readonly registry = new Registry();
  private readonly httpRequests = new Counter({
    name: "agent_http_requests_total",
    help: "HTTP requests answered, by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: "agent_http_request_duration_seconds",
    help: "HTTP request latency (SSE: until the stream ends), by method, route template and status.",
    labelNames: ["method", "route", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly marketplaceCalls = new Histogram({
    name: "agent_marketplace_call_duration_seconds",
    help: "Marketplace calls (all attempts of one call), by operation and final status.",
    labelNames: ["operation", "status"] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly marketplaceRetries = new Counter({
    name: "agent_marketplace_retries_total",
    help: "Marketplace calls tried again, by operation and reason (network_error, unavailable, unauthorized).",
    labelNames: ["operation", "reason"] as const,
    registers: [this.registry],
  });
  private readonly tierCache = new Counter({
    name: "agent_tier_cache_lookups_total",
    help: "getTier() lookups by result: hit, miss, stale (served from memory while the marketplace is down).",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });

  constructor(activeStreams: () => number) {
    collectDefaultMetrics({ register: this.registry });
    new Gauge({
      name: "agent_sse_streams_active",
      help: "Server-Sent Event answers streaming now.",
      registers: [this.registry],
      collect() {
        this.set(activeStreams());
      },
    });
  }

  /** agent-kit's observer (`createAgentKit({ observer })`). */
  readonly observer: MarketplaceObserver = {
    call: (e) =>
      this.marketplaceCalls.observe({ operation: e.operation, status: String(e.status) }, e.seconds),
    retry: (e) => this.marketplaceRetries.inc(e),
    tierCache: (result) => this.tierCache.inc({ result }),
  };

  /** Counts and times every request by its Express route template, never the raw path. */
  http(): RequestHandler {
    return (req, res, next) => {
      const started = performance.now();
      res.on("close", () => {
        const labels = { method: req.method, route: routeOf(req, res), status: String(res.statusCode) };
        this.httpRequests.inc(labels);
        this.httpDuration.observe(labels, (performance.now() - started) / 1000);
      });
      next();
    };
  }

  /** `GET /metrics`, guarded as `access` says. */
  route(access: MetricsAccess): RequestHandler {
    const expected = typeof access === "object" ? digest(access.token) : null;
    return async (req, res) => {
      // Not served, and not handed on either: the web app's catch-all would answer it with index.html.
      if (access === "off")
        return void res.status(404).json({ error: "not_found", message: "No route for GET /metrics" });
      if (expected) {
        const header = req.get("authorization") ?? "";
        const presented = header.startsWith("Bearer ") ? header.slice(7) : "";
        // Digests compare in constant time and at equal length whatever was sent.
        if (!timingSafeEqual(digest(presented), expected)) {
          res.set("www-authenticate", 'Bearer realm="metrics"');
          return void res.status(401).type("text/plain").send("unauthorized\n");
        }
      }
      res.set("content-type", this.registry.contentType).set("cache-control", "no-store");
      res.send(await this.registry.metrics());
    };
  }
}

/** The matched route (`/api/kbs/:id`), mounted routers' prefix included; unmatched requests share one label. */
export function routeOf(req: Request, res: Response): string {
  const route = req.route?.path;
  if (typeof route === "string") return `${req.baseUrl}${route}`;
  return res.statusCode === 404 ? "unmatched" : "other";
}

const digest = (value: string) => createHash("sha256").update(value).digest();
