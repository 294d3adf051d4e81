import { isSpanContextValid, trace } from "@opentelemetry/api";

/**
 * pino `mixin`: the active span's trace and span ids on every log line, so a
 * log search by trace id finds what one request wrote. Nothing when no span
 * is recording (tracing off, or outside a request).
 */
export function traceLogFields(): { traceId?: string; spanId?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  if (!spanContext || !isSpanContextValid(spanContext)) return {};
  return { traceId: spanContext.traceId, spanId: spanContext.spanId };
}
