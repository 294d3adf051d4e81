import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { MiddlewareHandler } from "hono";
import { type RouteOf, routeTemplate } from "../metrics/http.ts";

// Looked up per use: a tracer taken before the SDK is (re)registered would keep the old one.
const tracer = () => trace.getTracer("@amp/marketplace");

/**
 * One SERVER span per request, continuing the caller's trace from its W3C
 * `traceparent`, named `METHOD /route/:template` (never the raw path, as for
 * metrics). Everything the request runs, logs included, sees it as the
 * active span. A no-op until an SDK is registered (@amp/telemetry's startTracing).
 */
export function httpTracing(routeOf: RouteOf = routeTemplate()): MiddlewareHandler {
  return async (c, next) => {
    const parent = propagation.extract(context.active(), c.req.raw.headers, headerGetter);
    const span = tracer().startSpan(
      c.req.method,
      {
        kind: SpanKind.SERVER,
        attributes: { "http.request.method": c.req.method, "url.path": c.req.path },
      },
      parent,
    );
    try {
      await context.with(trace.setSpan(parent, span), next);
    } finally {
      // Tracing off (or not sampled): skip the route lookup, the one cost here.
      if (span.isRecording()) {
        const route = routeOf(c);
        span.updateName(`${c.req.method} ${route}`);
        span.setAttributes({ "http.route": route, "http.response.status_code": c.res.status });
        if (c.res.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    }
  };
}

const headerGetter = {
  keys: (headers: Headers) => [...headers.keys()],
  get: (headers: Headers, key: string) => headers.get(key) ?? undefined,
};
