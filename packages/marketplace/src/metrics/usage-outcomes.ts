import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { MarketplaceMetrics } from "./registry.ts";

/** The consume and release routes, as mounted (see usage/routes.ts). */
export const usageWritePath = (operation: "consume" | "release") =>
  `/me/agents/:agentId/usage/:metricSlug/${operation}`;

/**
 * Consume/release outcomes by agent: `ok`, or the status the caller got
 * (402 no subscription, 404, 409 idempotency conflict, 429 quota…). Calls
 * the guard refused (401/403) are not counted here: their agent id is the
 * caller's claim, not a verified agent, and would let anyone mint series.
 */
export function usageOutcomeMetrics(
  metrics: MarketplaceMetrics,
  operation: "consume" | "release",
): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const agent = c.req.param("agentId") ?? "";
    await next();
    const status = c.res.status;
    if (status === 401 || status === 403) return;
    metrics.usageOperations.inc({
      agent,
      operation,
      outcome: status >= 200 && status < 300 ? "ok" : status >= 500 ? "5xx" : String(status),
    });
  };
}
