import { randomUUID } from "node:crypto";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { PASSWORD, tokenRequest } from "./support/oauth.ts";
import { moved, scrape } from "./support/scrape.ts";

const WEBHOOK_SECRET = "whsec_metrics_suite_secret";
const METRICS_TOKEN = "metrics-token-for-the-suite-0123456789";
const stripe = new Stripe("sk_test_unused");
let t: TestMarketplace;
let agent: DemoAgent;

beforeAll(async () => {
  t = await startTestMarketplace({ STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, METRICS_TOKEN });
  agent = await registerAgent(await adminBrowser(t), { messages: ["rolling", 2, 100] });
});
afterAll(() => t?.close());

const read = () => scrape(t.url, METRICS_TOKEN);

function deliver(type: string, id = `evt_${randomUUID().replaceAll("-", "")}`, secret = WEBHOOK_SECRET) {
  const body = JSON.stringify({
    id,
    object: "event",
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: { id: "cus_1", object: "customer" } },
  });
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  return fetch(`${t.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body,
  });
}

describe("GET /metrics", () => {
  it("refuses a scrape without the configured token, or with another one", async () => {
    const none = await fetch(`${t.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    const wrong = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}x` } });
    expect(wrong.status).toBe(401);
    const basic = await fetch(`${t.url}/metrics`, { headers: { authorization: `Basic ${METRICS_TOKEN}` } });
    expect(basic.status).toBe(401);
    const right = await fetch(`${t.url}/metrics`, { headers: { authorization: `Bearer ${METRICS_TOKEN}` } });
    expect(right.status).toBe(200);
    expect(right.headers.get("content-type")).toContain("text/plain");
    expect(await right.text()).toContain("process_cpu_seconds_total");
  });

  it("is open without a token outside production, and not served without one in production", () => {
    expect(loadConfig({ NODE_ENV: "development" }, { memoryDatabase: true }).metrics).toBe("open");
    expect(loadConfig({ METRICS_TOKEN }, { memoryDatabase: true }).metrics).toEqual({ token: METRICS_TOKEN });
    const production = {
      NODE_ENV: "production",
      AUTH_SECRET: "x".repeat(32),
      MARKETPLACE_BASE_URL: "https://market.example.com",
    };
    expect(loadConfig(production).metrics).toBe("off");
    expect(loadConfig({ ...production, METRICS_TOKEN }).metrics).toEqual({ token: METRICS_TOKEN });
  });

  it("counters move by exactly what a sign-in, consume to 429, a refresh and webhooks did", async () => {
    // Set up outside the measured window: a user with an agent token and a Free subscription (quota 2).
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const before = await read();

    const signIn = await fetch(`${t.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: t.url },
      body: JSON.stringify({ email: user.email, password: PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const badSignIn = await fetch(`${t.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: t.url },
      body: JSON.stringify({ email: user.email, password: "wrong password here" }),
    });
    expect(badSignIn.status).toBe(401);

    const consume = () =>
      bearerCall(t.url, user.token, "POST", `/me/agents/${agent.id}/usage/messages/consume`, {
        delta: 1,
        clientReqId: randomUUID(),
      });
    const statuses = [];
    for (let i = 0; i < 3; i++) statuses.push((await consume()).status);
    expect(statuses).toEqual([200, 200, 429]);
    // Another agent's path with this token: refused by the guard, so no series for an unverified agent.
    const foreign = await bearerCall(
      t.url,
      user.token,
      "POST",
      `/me/agents/${randomUUID()}/usage/x/consume`,
      {
        delta: 1,
        clientReqId: randomUUID(),
      },
    );
    expect(foreign.status).toBe(403);

    const refreshed = await tokenRequest(t.issuer, {
      grant_type: "refresh_token",
      refresh_token: user.tokens.refresh_token!,
      client_id: agent.clientId,
    });
    expect(refreshed.status).toBe(200);
    const reused = await tokenRequest(t.issuer, {
      grant_type: "refresh_token",
      refresh_token: "not-a-refresh-token",
      client_id: agent.clientId,
    });
    expect(reused.status).toBe(400);

    const eventId = `evt_${randomUUID().replaceAll("-", "")}`;
    expect((await deliver("customer.created", eventId)).status).toBe(200);
    expect((await deliver("customer.created", eventId)).status).toBe(200);
    expect((await deliver("customer.created", undefined, "whsec_forged")).status).toBe(400);

    const after = await read();
    const delta = (name: string, labels: Record<string, string>) => moved(before, after, name, labels);
    const http = "marketplace_http_requests_total";
    const signInRoute = { route: "/api/auth/sign-in/email", method: "POST" };
    expect(delta(http, { ...signInRoute, status: "200" })).toBe(1);
    expect(delta(http, { ...signInRoute, status: "401" })).toBe(1);

    const consumeRoute = { route: "/me/agents/:agentId/usage/:metricSlug/consume", method: "POST" };
    expect(delta(http, { ...consumeRoute, status: "200" })).toBe(2);
    expect(delta(http, { ...consumeRoute, status: "429" })).toBe(1);
    expect(delta(http, { ...consumeRoute, status: "403" })).toBe(1);
    expect(delta("marketplace_http_request_duration_seconds_count", { ...consumeRoute, status: "429" })).toBe(
      1,
    );
    // Route templates only: no id from a URL becomes a label value.
    expect(after.text).not.toContain(`route="/me/agents/${agent.id}`);

    const usage = "marketplace_usage_operations_total";
    expect(delta(usage, { agent: agent.id, operation: "consume", outcome: "ok" })).toBe(2);
    expect(delta(usage, { agent: agent.id, operation: "consume", outcome: "429" })).toBe(1);
    expect(delta(usage, {})).toBe(3);
    // Each consume that passed the guard ran the consume statement once, and was timed.
    const consumeSql = (statement: string) =>
      delta("marketplace_db_query_duration_seconds_count", { statement });
    expect(consumeSql("usage_consume") + consumeSql("usage_consume_as")).toBe(3);

    const token = "marketplace_oauth_token_requests_total";
    expect(delta(token, { grant_type: "refresh_token", result: "granted", error: "" })).toBe(1);
    expect(delta(token, { grant_type: "refresh_token", result: "failed", error: "invalid_grant" })).toBe(1);
    expect(delta(token, {})).toBe(2);

    const webhook = "marketplace_stripe_webhook_events_total";
    expect(delta(webhook, { type: "customer.created", outcome: "processed" })).toBe(1);
    expect(delta(webhook, { type: "customer.created", outcome: "duplicate" })).toBe(1);
    expect(delta(webhook, { type: "unknown", outcome: "invalid_signature" })).toBe(1);
  });

  it("labels requests better-auth answers by its endpoint's template, never the raw path", async () => {
    const before = await read();
    const random = randomUUID();
    for (const path of [
      `/api/auth/callback/${random}`,
      `/api/auth/reset-password/${random}`,
      `/api/auth/${random}`,
    ])
      await fetch(`${t.url}${path}`, { redirect: "manual" });
    const after = await read();
    const count = (route: string) => moved(before, after, "marketplace_http_requests_total", { route });
    expect(count("/api/auth/callback/:id")).toBe(1);
    expect(count("/api/auth/reset-password/:token")).toBe(1);
    expect(count("unmatched")).toBe(1);
    expect(after.text).not.toContain(random);
  });

  it("reports the code grant that issued a user's tokens", async () => {
    const before = await read();
    await agentUser(t, agent);
    const after = await read();
    expect(
      moved(before, after, "marketplace_oauth_token_requests_total", {
        grant_type: "authorization_code",
        result: "granted",
      }),
    ).toBe(1);
  });

  it("reports the PostgreSQL pool at scrape time", async () => {
    const metrics = await read();
    if (t.mp.database.kind === "postgres") {
      expect(metrics.value("marketplace_db_pool_max")).toBe(t.mp.config.databasePoolSize);
      expect(metrics.value("marketplace_db_pool_connections")).toBeGreaterThan(0);
      expect(metrics.text).toContain("marketplace_db_pool_waiting 0");
    } else {
      // PGlite has no pool: no pool gauges rather than a made-up zero.
      expect(metrics.text).not.toContain("marketplace_db_pool_");
    }
  });
});
