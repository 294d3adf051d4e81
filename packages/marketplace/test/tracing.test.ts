import { once } from "node:events";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { propagation, trace } from "@opentelemetry/api";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "../src/config.ts";
import { startTestMarketplace } from "./support/harness.ts";

// A caller's W3C trace context (https://www.w3.org/TR/trace-context/#traceparent-header).
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

/** True once an SDK is registered: without one the API hands out non-recording spans and no propagator. */
const tracingRegistered = () => {
  const span = trace.getTracer("probe").startSpan("probe");
  span.end();
  return span.isRecording() || propagation.fields().length > 0;
};

describe("tracing is off unless an exporter is configured", () => {
  it("reads OTEL_EXPORTER_OTLP_ENDPOINT as a URL, and nothing else turns tracing on", () => {
    expect(loadConfig({}).tracing).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" }).tracing).toEqual({
      endpoint: "http://collector:4318",
    });
    expect(() => loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: "collector" })).toThrow(ConfigError);
  });

  it("without an endpoint registers nothing, serves with or without traceparent, and logs no trace ids", async () => {
    const t = await startTestMarketplace();
    try {
      expect(tracingRegistered()).toBe(false);
      expect((await fetch(`${t.url}/health`)).status).toBe(200);
      expect((await fetch(`${t.url}/health`, { headers: { traceparent: TRACEPARENT } })).status).toBe(200);
      expect((await fetch(`${t.url}/health`, { headers: { traceparent: "garbage" } })).status).toBe(200);
      const lines = t.logs.map((line) => JSON.parse(line));
      expect(lines.filter((l) => l.msg === "request")).toHaveLength(3);
      expect(lines.some((l) => "traceId" in l)).toBe(false);
    } finally {
      await t.close();
    }
  });

  it("with an endpoint exports the request's span over OTLP/HTTP in the caller's trace, and unregisters on close", async () => {
    const posts: { path: string; body: string }[] = [];
    const collector = createServer((req, res) => {
      let body = "";
      req.on("data", (chunk) => (body += chunk));
      req.on("end", () => {
        posts.push({ path: req.url ?? "", body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    collector.listen(0, "127.0.0.1");
    await once(collector, "listening");
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    try {
      const t = await startTestMarketplace({ OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });
      try {
        expect(tracingRegistered()).toBe(true);
        expect((await fetch(`${t.url}/health`, { headers: { traceparent: TRACEPARENT } })).status).toBe(200);
        const logged = t.logs.map((line) => JSON.parse(line)).find((l) => l.msg === "request");
        expect(logged).toMatchObject({ traceId: TRACE_ID, path: "/health" });
      } finally {
        await t.close(); // flushes the batch
      }
      expect(tracingRegistered()).toBe(false);
      const exported = posts
        .filter((p) => p.path === "/v1/traces")
        .map((p) => p.body)
        .join("\n");
      expect(exported).toContain(TRACE_ID);
      expect(exported).toContain('"GET /health"');
      expect(exported).toContain('"stringValue":"marketplace"');
    } finally {
      collector.close();
    }
  });
});
