import { context, propagation, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { RequestHandler } from "express";
import { routeOf } from "./metrics.ts";

// Looked up per use: a tracer taken before the SDK is (re)registered would keep the old one.
const tracer = () => trace.getTracer("@amp/agent-app");

/**
 * One SERVER span per request, continuing the caller's W3C `traceparent`,
 * named by the Express route template (as the metrics label it). agent-kit's
 * marketplace calls made while it is active become its children. A no-op
 * until an SDK is registered (@amp/telemetry's startTracing).
 */
export function httpTracing(): RequestHandler {
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers);
    const span = tracer().startSpan(
      req.method,
      { kind: SpanKind.SERVER, attributes: { "http.request.method": req.method, "url.path": req.path } },
      parent,
    );
    const active = trace.setSpan(parent, span);
    // Body parsing and response events run from socket callbacks, outside this call: bind them to the span.
    context.bind(active, req);
    context.bind(active, res);
    res.on("close", () => {
      // Tracing off (or not sampled): skip the route lookup.
      if (span.isRecording()) {
        const route = routeOf(req, res);
        span.updateName(`${req.method} ${route}`);
        span.setAttributes({ "http.route": route, "http.response.status_code": res.statusCode });
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    });
    context.with(active, next);
  };
}
