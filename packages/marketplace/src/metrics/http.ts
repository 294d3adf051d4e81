import type { Context, MiddlewareHandler } from "hono";
import { matchedRoutes, routePath } from "hono/route";
import type { MarketplaceMetrics } from "./registry.ts";

/** How a finished request is named in labels and span names (see routeTemplate). */
export type RouteOf = (c: Context) => string;

/**
 * Counts and times every request by route template (`/agents/:agentId`),
 * never the raw path, so an id in a URL cannot add a time series.
 */
export function httpMetrics(metrics: MarketplaceMetrics, routeOf: RouteOf): MiddlewareHandler {
  return async (c, next) => {
    const started = performance.now();
    await next();
    const status = String(c.res.status);
    const labels = { method: c.req.method, route: routeOf(c), status };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, (performance.now() - started) / 1000);
  };
}

/**
 * The template of the route a finished request reached (`/agents/:agentId`),
 * for metrics labels and span names alike. Requests a catch-all route
 * forwards (`/api/auth/*` to better-auth) are named by the template of the
 * endpoint they reach, from `forwardedTemplates` (better-auth's own endpoint
 * paths, e.g. `/api/auth/callback/:id`); anything else is `unmatched`.
 * Call after `next()`.
 */
export function routeTemplate(forwardedTemplates: readonly string[] = []): RouteOf {
  const forwarded = forwardedTemplates.map((template) => ({ template, pattern: patternOf(template) }));
  const forwardedRoute = (path: string) => forwarded.find((r) => r.pattern.test(path))?.template;
  return (c) => routeLabel(c, forwardedRoute);
}

function routeLabel(c: Context, forwardedRoute: (path: string) => string | undefined): string {
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
  return forwardedRoute(c.req.path) ?? "unmatched";
}

/** `/api/auth/callback/:id` → a regex matching one path segment per parameter. */
function patternOf(template: string): RegExp {
  const escaped = template
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${escaped}/?$`);
}

/** The paths of better-auth's endpoints (`auth.api`), as mounted under `basePath`. */
export const endpointPaths = (api: object, basePath: string): string[] => [
  ...new Set(
    Object.values(api)
      .map((endpoint) => (endpoint as { path?: unknown }).path)
      .filter((path): path is string => typeof path === "string")
      .map((path) => `${basePath}${path}`),
  ),
];
