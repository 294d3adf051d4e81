import { context, propagation, SpanKind, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import {
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  TracerProvider,
} from "@opentelemetry/sdk-trace";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { ConfigError, loadConfig } from "../server/config.ts";
import { startAgentApp } from "./support.ts";

// What @amp/telemetry's startTracing registers, with spans kept in memory instead of exported.
const exporter = new InMemorySpanExporter();
const provider = new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] });
let app: Awaited<ReturnType<typeof startAgentApp>>;
beforeAll(async () => {
  trace.setGlobalTracerProvider(provider);
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  app = await startAgentApp();
});
afterAll(async () => {
  await app?.close();
  await provider.shutdown();
  trace.disable();
  context.disable();
  propagation.disable();
});

const idOf = (span: ReadableSpan) => span.spanContext().spanId;
const traceOf = (span: ReadableSpan) => span.spanContext().traceId;

describe("tracing: agent → marketplace → SQL", () => {
  it("one charged request is one trace: agent route, agent-kit consume call, marketplace consume route, its SQL", async () => {
    const user = await app.demoUser();
    exporter.reset();
    const logsBefore = app.t.logs.length;
    expect((await user.call("POST", "/api/kbs", { name: "Traced" })).status).toBe(201);

    // The agent's SERVER span ends when the response closes, just after the client has it.
    const agentSpan = await vi.waitFor(() => {
      const found = exporter
        .getFinishedSpans()
        .find((s) => s.kind === SpanKind.SERVER && s.attributes["http.route"] === "/api/kbs");
      if (!found) throw new Error("no agent span yet");
      return found;
    });
    const spans = exporter.getFinishedSpans();
    const traceId = traceOf(agentSpan);
    expect(agentSpan.name).toBe("POST /api/kbs");
    expect(agentSpan.parentSpanContext).toBeUndefined();
    expect(agentSpan.attributes["http.response.status_code"]).toBe(201);

    const consumeCall = spans.find((s) => s.kind === SpanKind.CLIENT && s.name === "marketplace consume");
    expect(consumeCall, "agent-kit's CLIENT span").toBeDefined();
    expect(traceOf(consumeCall!)).toBe(traceId);
    expect(consumeCall!.parentSpanContext?.spanId).toBe(idOf(agentSpan));
    expect(consumeCall!.attributes["http.response.status_code"]).toBe(200);

    const consumeRoute = spans.find(
      (s) =>
        s.kind === SpanKind.SERVER &&
        s.attributes["http.route"] === "/me/agents/:agentId/usage/:metricSlug/consume",
    );
    expect(consumeRoute, "the marketplace's SERVER span, continued from traceparent").toBeDefined();
    expect(consumeRoute!.name).toBe("POST /me/agents/:agentId/usage/:metricSlug/consume");
    expect(traceOf(consumeRoute!)).toBe(traceId);
    expect(consumeRoute!.parentSpanContext?.spanId).toBe(idOf(consumeCall!));

    const statement = spans.find((s) => s.attributes["db.system"] === "postgresql");
    expect(statement, "the consume statement's span").toBeDefined();
    expect(statement!.name).toBe("usage_consume_as");
    expect(statement!.attributes).toMatchObject({
      "db.system.name": "postgresql",
      "db.operation.name": "SELECT",
    });
    expect(traceOf(statement!)).toBe(traceId);
    expect(statement!.parentSpanContext?.spanId).toBe(idOf(consumeRoute!));
    // Names only: no parameter (user id, request id, the KB's clientReqId) is recorded.
    expect(JSON.stringify(statement!.attributes)).not.toMatch(/create-|\$1/);

    // The marketplace's access-log line for the consume call carries the trace and its span.
    const lines = app.t.logs.slice(logsBefore).map((line) => JSON.parse(line));
    const logged = lines.find((l) => l.msg === "request" && String(l.path).endsWith("/consume"));
    expect(logged).toMatchObject({ traceId, spanId: idOf(consumeRoute!), status: 200 });
  });
});

describe("agent tracing config", () => {
  it("is off without OTEL_EXPORTER_OTLP_ENDPOINT and refuses an endpoint that is not a URL", () => {
    const base = { OAUTH_CLIENT_ID: "c", AGENT_ID: "a", AGENT_SLUG: "s", AUTH_SECRET: "x".repeat(32) };
    expect(loadConfig(base).tracing).toBeUndefined();
    expect(loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracing).toEqual({
      endpoint: "http://collector:4318",
    });
    expect(() => loadConfig({ ...base, OTEL_EXPORTER_OTLP_ENDPOINT: "collector" })).toThrow(ConfigError);
  });
});
