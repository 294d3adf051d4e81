import { context, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import { BatchSpanProcessor, TracerProvider } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";

/** Where spans go (each service's config.ts: OTEL_EXPORTER_OTLP_ENDPOINT). Unset: tracing is off and nothing is registered. */
export interface TracingSettings {
  /** OTLP/HTTP collector base URL; spans are posted to `<endpoint>/v1/traces`. */
  endpoint: string;
}

export interface Tracing {
  /** Exports what is buffered and unregisters the globals. */
  shutdown(): Promise<void>;
}

/**
 * Registers the OpenTelemetry SDK for this process: W3C trace context,
 * AsyncLocalStorage so the active span follows `await`, and a batching
 * OTLP/HTTP exporter. The code that makes spans uses only
 * `@opentelemetry/api`, which stays a no-op until this runs. Returns null
 * when another SDK is already registered (it keeps working; ours is unused).
 */
export function startTracing(settings: TracingSettings, serviceName: string): Tracing | null {
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: serviceName }),
    spanProcessors: [
      new BatchSpanProcessor({
        exporter: new OTLPTraceExporter({ url: `${settings.endpoint.replace(/\/+$/, "")}/v1/traces` }),
      }),
    ],
  });
  if (!trace.setGlobalTracerProvider(provider)) {
    void provider.shutdown();
    return null;
  }
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  return {
    async shutdown() {
      await provider.shutdown();
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
