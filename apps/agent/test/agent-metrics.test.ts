import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { moved, scrape } from "../../../packages/marketplace/test/support/scrape.ts";
import { loadConfig } from "../server/config.ts";
import { AgentMetrics } from "../server/metrics.ts";
import { startAgentApp } from "./support.ts";

const TOKEN = "agent-metrics-token-0123456789";
let app: Awaited<ReturnType<typeof startAgentApp>>;
beforeAll(async () => {
  app = await startAgentApp({ metricsToken: TOKEN });
});
afterAll(() => app?.close());

const read = () => scrape(app.agentUrl, TOKEN);

describe("agent GET /metrics", () => {
  it("refuses a scrape without the token (and is never the web app)", async () => {
    const none = await fetch(`${app.agentUrl}/metrics`);
    expect(none.status).toBe(401);
    const wrong = await fetch(`${app.agentUrl}/metrics`, { headers: { authorization: "Bearer nope" } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${app.agentUrl}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain("agent_sse_streams_active 0");
  });

  it("is open without a token outside production and not served without one in production", () => {
    const base = { OAUTH_CLIENT_ID: "c", AGENT_ID: "a", AGENT_SLUG: "s", AUTH_SECRET: "x".repeat(32) };
    expect(loadConfig({ ...base, NODE_ENV: "development" }).metrics).toBe("open");
    expect(loadConfig({ ...base, NODE_ENV: "production" }).metrics).toBe("off");
    expect(loadConfig({ ...base, NODE_ENV: "production", METRICS_TOKEN: TOKEN }).metrics).toEqual({
      token: TOKEN,
    });
  });

  it("when off (production, no token) answers 404 itself, so the web app's catch-all never serves it", async () => {
    const app = express();
    app.get("/metrics", new AgentMetrics(() => 0).route("off"));
    app.use((_req, res) => void res.type("html").send("<!doctype html>the web app"));
    const server = createServer(app).listen(0, "127.0.0.1");
    await new Promise((resolve) => server.once("listening", resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ error: "not_found" });
    } finally {
      server.close();
    }
  });

  it("counts routes by template, marketplace calls by operation, tier-cache lookups and SSE answers", async () => {
    const user = await app.demoUser();
    const { json } = await user.call("POST", "/api/kbs", { name: "Metrics" });
    const kb = json.knowledgeBase.id as string;
    await user.call("POST", `/api/kbs/${kb}/documents`, { title: "Hours", content: "Opens at 9." });
    const before = await read();

    expect((await user.call("GET", "/api/me/tier")).status).toBe(200);
    expect((await user.call("GET", "/api/me/tier")).status).toBe(200);
    const answer = await user.call("POST", `/api/kbs/${kb}/ask`, { question: "When does it open?" });
    expect(answer.text).toContain("event: done");
    expect((await user.call("GET", `/api/kbs/${kb}`)).status).toBe(200);

    const after = await read();
    const delta = (name: string, labels: Record<string, string>) => moved(before, after, name, labels);
    expect(delta("agent_http_requests_total", { route: "/api/kbs/:id/ask", status: "200" })).toBe(1);
    expect(delta("agent_http_requests_total", { route: "/api/kbs/:id", method: "GET" })).toBe(1);
    expect(after.text).not.toContain(kb);
    expect(delta("agent_tier_cache_lookups_total", { result: "miss" })).toBe(1);
    expect(delta("agent_tier_cache_lookups_total", { result: "hit" })).toBe(1);
    expect(
      delta("agent_marketplace_call_duration_seconds_count", { operation: "consume", status: "200" }),
    ).toBe(1);
    expect(
      delta("agent_marketplace_call_duration_seconds_count", { operation: "subscription", status: "200" }),
    ).toBe(1);
    expect(after.value("agent_sse_streams_active")).toBe(0);
    await user.call("DELETE", `/api/kbs/${kb}`);
  });
});
