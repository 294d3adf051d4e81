import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { MarketplaceMetrics } from "./registry.ts";

/**
 * Counts and times every request by route template (`/agents/:agentId`),
 * never the raw path, so an id in a URL cannot add a time series. Catch-all
 * routes that forward to better-auth (`/api/auth/*`) are labelled with the
 * real endpoint path when it exists (a fixed set) and with the template
 * when the answer is 404 (an unknown path anyone can invent).
 */
export function httpMetrics(metrics: MarketplaceMetrics): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = String(c.res.status);
    const labels = { method: c.req.method, route: routeLabel(c), status };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
  };
}

function routeLabel(c: Context): string {
  // After the chain, routeIndex is the handler that answered (or the middleware that cut it short).
  let template = routePath(c);
  if (template.endsWith("*")) {
    // A middleware answered (413, a guard): name the route the request was for, if any.
    const specific = matchedRoutes(c)
      .map((r) => r.path)
      .findLast((path) => !path.endsWith("*"));
    if (specific) template = specific;
  }
  if (!template.endsWith("*")) return template;
  if (c.res.status === 404 || template === "/*") return "unmatched";
  return template.startsWith("/api/auth/") ? c.req.path : template;
}
