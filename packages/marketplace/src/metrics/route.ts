import { createHash, timingSafeEqual } from "node:crypto";
import { Hono } from "hono";
import type { Registry } from "prom-client";

/**
 * Who may scrape `GET /metrics` (config.ts `metrics`):
 * - a token is configured (METRICS_TOKEN): only `Authorization: Bearer <token>`;
 * - no token, outside production: open (a developer's machine, tests);
 * - no token in production: not served at all (404), so metrics never leak by default.
 */
export type MetricsAccess = { token: string } | "open" | "off";

export function metricsRoute(registry: Registry, access: MetricsAccess) {
  const app = new Hono();
  if (access === "off") return app;
  const expected = typeof access === "object" ? digest(access.token) : null;
  app.get("/metrics", async (c) => {
    if (expected) {
      const header = c.req.header("authorization") ?? "";
      const presented = header.startsWith("Bearer ") ? header.slice(7) : "";
      // Compare digests: constant time, and equal lengths whatever was sent.
      if (!timingSafeEqual(digest(presented), expected)) {
        c.header("www-authenticate", 'Bearer realm="metrics"');
        return c.text("unauthorized\n", 401);
      }
    }
    c.header("content-type", registry.contentType);
    c.header("cache-control", "no-store");
    return c.body(await registry.metrics());
  });
  return app;
}

const digest = (value: string) => createHash("sha256").update(value).digest();
