import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscriptions, usageCounters, usageLedger } from "../src/db/schema.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  call,
  confirmDevCheckout,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import type { Browser } from "./support/oauth.ts";

let t: TestMarketplace;
let admin: Browser;
let agent: DemoAgent;

beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
  agent = await registerAgent(admin, {
    messages: ["rolling", 50, 500],
    "knowledge-bases": ["fixed", 3, 10],
    voice: ["fixed", 0, 1],
    unlimited: ["rolling", null, null],
    forbidden: ["rolling", undefined, undefined],
  });
});
afterAll(() => t?.close());

const consume = (token: string, metric: string, body: Record<string, unknown>) =>
  bearerCall(t.url, token, "POST", `/me/agents/${agent.id}/usage/${metric}/consume`, body);
const release = (token: string, metric: string, body: Record<string, unknown>) =>
  bearerCall(t.url, token, "POST", `/me/agents/${agent.id}/usage/${metric}/release`, body);

async function ledgerCount(userId: string) {
  const [row] = await t.mp.database.db
    .select({ n: sql<number>`count(*)::int` })
    .from(usageLedger)
    .where(eq(usageLedger.userId, userId));
  return row!.n;
}

async function counter(subscriptionId: string, metric: string) {
  const [row] = await t.mp.database.db
    .select()
    .from(usageCounters)
    .where(
      sql`${usageCounters.subscriptionId} = ${subscriptionId} AND ${usageCounters.metricId} = ${agent.metrics[metric]!.id}`,
    );
  return row?.used ?? 0;
}

async function ledgerSum(subscriptionId: string, metric: string) {
  const [row] = await t.mp.database.db
    .select({
      total: sql<string>`coalesce(sum(CASE WHEN ${usageLedger.action} = 'consume' THEN ${usageLedger.delta} ELSE 0 END), 0)`,
    })
    .from(usageLedger)
    .where(sql`${usageLedger.subscriptionId} = ${subscriptionId} AND ${usageLedger.metricSlug} = ${metric}`);
  return Number(row!.total);
}

describe("consume and release, one user", () => {
  let user: Awaited<ReturnType<typeof agentUser>>;
  let subscriptionId: string;
  beforeAll(async () => {
    user = await agentUser(t, agent);
    subscriptionId = await subscribeFree(user, agent);
  });

  it("consumes to the cap, then 429 with remaining 0 and resetsAt; nothing written on 429", async () => {
    const first = await consume(user.token, "knowledge-bases", { delta: 2, clientReqId: randomUUID() });
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({
      metricSlug: "knowledge-bases",
      kind: "fixed",
      used: 2,
      remaining: 1,
      effectiveQuota: 3,
      resetsAt: null,
    });
    expect(
      (await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() })).body.data
        .remaining,
    ).toBe(0);
    const before = await ledgerCount(user.userId);
    const over = await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() });
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({
      code: "QUOTA_EXCEEDED",
      details: { remaining: 0, effectiveQuota: 3, resetsAt: null },
    });
    expect(await ledgerCount(user.userId)).toBe(before);
    expect(await counter(subscriptionId, "knowledge-bases")).toBe(3);
  });

  it("rolling metrics report when they reset", async () => {
    const r = await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
    expect(r.body.data.kind).toBe("rolling");
    expect(new Date(r.body.data.resetsAt).getTime()).toBeGreaterThan(Date.now());
  });

  it("unlimited quota (NULL) never refuses; a missing quota row denies; quota 0 denies", async () => {
    const big = await consume(user.token, "unlimited", { delta: 1_000_000, clientReqId: randomUUID() });
    expect(big.body.data).toMatchObject({ effectiveQuota: null, remaining: null });
    const none = await consume(user.token, "forbidden", { delta: 1, clientReqId: randomUUID() });
    expect(none.status).toBe(429);
    expect(none.body.error!.details).toMatchObject({ effectiveQuota: 0, remaining: 0 });
    expect((await consume(user.token, "voice", { delta: 1, clientReqId: randomUUID() })).status).toBe(429);
  });

  it("release frees a fixed unit with a deterministic id, once", async () => {
    const body = { delta: 1, clientReqId: `release-kb-${randomUUID()}` };
    const first = await release(user.token, "knowledge-bases", body);
    expect(first.status).toBe(200);
    expect(first.body.data.used).toBe(2);
    const again = await release(user.token, "knowledge-bases", body);
    expect(again.body.data).toEqual(first.body.data);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await counter(subscriptionId, "knowledge-bases")).toBe(2);
  });

  it("D.4 release on a rolling metric is 422 before any write", async () => {
    const before = await ledgerCount(user.userId);
    const response = await release(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
    expect(response.status).toBe(422);
    expect(response.body.error!.code).toBe("UNPROCESSABLE_ENTITY");
    expect(await ledgerCount(user.userId)).toBe(before);
  });

  it("404 for an unknown metric, 404 for an unknown agent, 403 for another agent's token", async () => {
    expect(
      (await consume(user.token, "no-such-metric", { delta: 1, clientReqId: randomUUID() })).status,
    ).toBe(404);
    const unknown = await bearerCall(
      t.url,
      user.token,
      "POST",
      `/me/agents/${randomUUID()}/usage/messages/consume`,
      {
        delta: 1,
        clientReqId: randomUUID(),
      },
    );
    expect(unknown.status).toBe(403);
    const other = await registerAgent(admin, { messages: ["rolling", 5, 5] });
    const foreign = await bearerCall(
      t.url,
      user.token,
      "POST",
      `/me/agents/${other.id}/usage/messages/consume`,
      {
        delta: 1,
        clientReqId: randomUUID(),
      },
    );
    expect(foreign.status).toBe(403);
  });

  it("a clientReqId reused for a different request is 409, and changes nothing", async () => {
    const id = randomUUID();
    expect((await consume(user.token, "messages", { delta: 1, clientReqId: id })).status).toBe(200);
    const before = await ledgerCount(user.userId);
    expect((await consume(user.token, "messages", { delta: 2, clientReqId: id })).status).toBe(409);
    expect(await ledgerCount(user.userId)).toBe(before);
  });

  it("D.5 bad input is a 400 envelope with details.errors and writes nothing", async () => {
    const before = await ledgerCount(user.userId);
    const bad: unknown[] = [
      { delta: 0, clientReqId: "a" },
      { delta: -1, clientReqId: "a" },
      { delta: 1.5, clientReqId: "a" },
      { delta: 2 ** 31, clientReqId: "a" },
      { delta: "1", clientReqId: "a" },
      { delta: 1 },
      { delta: 1, clientReqId: "" },
      { delta: 1, clientReqId: "x".repeat(201) },
      { delta: 1, clientReqId: "a", extra: true },
      { delta: 1, clientReqId: "a", metadata: "not an object" },
      [1, 2],
      null,
    ];
    for (const body of bad) {
      const response = await bearerCall(
        t.url,
        user.token,
        "POST",
        `/me/agents/${agent.id}/usage/messages/consume`,
        body,
      );
      expect(response.status, JSON.stringify(body)).toBe(400);
      expect(response.body.error!.code).toBe("BAD_REQUEST");
      expect((response.body.error!.details as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    }
    expect(await ledgerCount(user.userId)).toBe(before);
  });

  it("GET usage lists every metric as MetricUsageDto", async () => {
    const all = await bearerCall(t.url, user.token, "GET", `/me/agents/${agent.id}/usage`);
    expect(all.status).toBe(200);
    const kb = all.body.data.find((m: { metricSlug: string }) => m.metricSlug === "knowledge-bases");
    expect(kb).toEqual({
      metricSlug: "knowledge-bases",
      displayName: "knowledge-bases",
      unit: "units",
      kind: "fixed",
      baseQuota: 3,
      addonsBonus: 0,
      effectiveQuota: 3,
      used: 2,
      remaining: 1,
      resetsAt: null,
    });
    const one = await bearerCall(t.url, user.token, "GET", `/me/agents/${agent.id}/usage/unlimited`);
    expect(one.body.data).toMatchObject({ metricSlug: "unlimited", effectiveQuota: null, remaining: null });
    expect((await bearerCall(t.url, user.token, "GET", `/me/agents/${agent.id}/usage/nope`)).status).toBe(
      404,
    );
  });
});

describe("concurrency", () => {
  it("D.1 200 parallel consumes with 50 left: exactly 50 succeed, the rest 429 remaining 0; counter == ledger", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() }),
      ),
    );
    const ok = responses.filter((r) => r.status === 200);
    const refused = responses.filter((r) => r.status === 429);
    expect(ok).toHaveLength(50);
    expect(refused).toHaveLength(150);
    for (const r of refused) expect(r.body.error!.details!.remaining).toBe(0);
    expect(new Set(ok.map((r) => r.body.data.used)).size).toBe(50);
    expect(await counter(subscriptionId, "messages")).toBe(50);
    expect(await ledgerSum(subscriptionId, "messages")).toBe(50);
  });

  it("D.2 200 concurrent requests with one clientReqId: applied once, every response identical", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const body = { delta: 3, clientReqId: randomUUID() };
    const responses = await Promise.all(
      Array.from({ length: 200 }, () => consume(user.token, "messages", body)),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    const first = JSON.stringify(responses[0]!.body.data);
    for (const r of responses) expect(JSON.stringify(r.body.data)).toBe(first);
    expect(await counter(subscriptionId, "messages")).toBe(3);
    expect(await ledgerCount(user.userId)).toBe(1);
  });

  it("D.3 a retry after a lost response returns the same outcome and counts once", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const body = { delta: 2, clientReqId: randomUUID() };
    const committed = await consume(user.token, "messages", body); // the response the client "never saw"
    const retry = await consume(user.token, "messages", body);
    expect(retry.body.data).toEqual(committed.body.data);
    expect(await counter(subscriptionId, "messages")).toBe(2);
  });

  it("D.4 200 concurrent releases never drive used below zero", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    await consume(user.token, "knowledge-bases", { delta: 3, clientReqId: randomUUID() });
    const responses = await Promise.all(
      Array.from({ length: 200 }, () =>
        release(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() }),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    expect(responses.every((r) => r.body.data.used >= 0)).toBe(true);
    expect(await counter(subscriptionId, "knowledge-bases")).toBe(0);
  });
});

describe("subscription states and plans", () => {
  it("D.7 only active and trialing consume; past_due, incomplete, canceled and none are 402 with an upgrade URL", async () => {
    const user = await agentUser(t, agent);
    const none = await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
    expect(none.status).toBe(402);
    expect(none.body.error).toMatchObject({
      code: "PAYMENT_REQUIRED",
      details: { tierUpgradeUrl: `${t.url}/pricing/${agent.slug}` },
    });
    const subscriptionId = await subscribeFree(user, agent);
    for (const status of ["trialing", "past_due", "incomplete", "canceled"] as const) {
      await t.mp.database.db
        .update(subscriptions)
        .set({ status })
        .where(eq(subscriptions.id, subscriptionId));
      const response = await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
      expect(response.status, status).toBe(status === "trialing" ? 200 : 402);
    }
  });

  it("D.7 an upgrade raises the cap at once and keeps fixed usage", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    await consume(user.token, "knowledge-bases", { delta: 3, clientReqId: randomUUID() });
    expect(
      (await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() })).status,
    ).toBe(429);
    const checkout = await call(
      user.browser,
      "POST",
      `/agents/${agent.id}/pricing/${agent.pro.id}/checkout`,
      {
        returnUrl: `https://${agent.slug}.example.com/done`,
      },
    );
    expect(checkout.body.data.status).toBe("redirect");
    await confirmDevCheckout(user.browser, checkout.body.data.url);
    const after = await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() });
    expect(after.status).toBe(200);
    expect(after.body.data).toMatchObject({ used: 4, effectiveQuota: 10 });
  });

  it("D.8 addons: one_cycle and permanent add to the quota; revoked ones do not", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const grant = (scope: string, amount: number) =>
      call(admin, "POST", `/admin/subscriptions/${subscriptionId}/addons`, {
        metricSlug: "knowledge-bases",
        amount,
        scope,
      });
    const cycle = await grant("one_cycle", 2);
    expect(cycle.status).toBe(201);
    expect(new Date(cycle.body.data.expiresAt).getTime()).toBeGreaterThan(Date.now());
    const permanent = await grant("permanent", 5);
    expect(permanent.body.data.expiresAt).toBeNull();
    const usage = async () =>
      (await bearerCall(t.url, user.token, "GET", `/me/agents/${agent.id}/usage/knowledge-bases`)).body.data;
    expect(await usage()).toMatchObject({ baseQuota: 3, addonsBonus: 7, effectiveQuota: 10 });
    expect((await call(admin, "DELETE", `/admin/addons/${permanent.body.data.id}`)).status).toBe(200);
    expect(await usage()).toMatchObject({ addonsBonus: 2, effectiveQuota: 5 });
    // A one-cycle addon ends with its period: seen from one second after expiry, only the base remains.
    const later = new Date(new Date(cycle.body.data.expiresAt).getTime() + 1_000);
    const { rows } = await t.mp.database.sql.query<{ effective_quota: string }>(
      "SELECT effective_quota FROM usage_position($1, $2, 'knowledge-bases', $3)",
      [user.userId, agent.id, later],
    );
    expect(Number(rows[0]!.effective_quota)).toBe(3);
  });

  it("D.6 the first consume after the period end starts from zero", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const cap = await consume(user.token, "messages", { delta: 50, clientReqId: randomUUID() });
    expect(cap.body.data.remaining).toBe(0);
    const nextPeriod = new Date(new Date(cap.body.data.resetsAt).getTime() + 1_000);
    const { rows } = await t.mp.database.sql.query<{ outcome: string; used: string }>(
      "SELECT * FROM usage_consume($1, $2, 'messages', 1, $3, NULL, $4)",
      [user.userId, agent.id, randomUUID(), nextPeriod],
    );
    expect(rows[0]).toMatchObject({ outcome: "ok" });
    expect(Number(rows[0]!.used)).toBe(1);
    expect(await counter(subscriptionId, "messages")).toBe(1);
  });
});

describe("F.3 usage survives cancel, resubscribe and plan changes", () => {
  const usageOf = async (token: string, metric: string) =>
    (await bearerCall(t.url, token, "GET", `/me/agents/${agent.id}/usage/${metric}`)).body.data;
  const cancel = (browser: Browser) => call(browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
  async function checkoutPro(browser: Browser) {
    const checkout = await call(browser, "POST", `/agents/${agent.id}/pricing/${agent.pro.id}/checkout`, {
      returnUrl: `https://${agent.slug}.example.com/done`,
    });
    expect(checkout.body.data.status).toBe("redirect");
    await confirmDevCheckout(browser, checkout.body.data.url);
  }

  it("F.3a free at the cap → cancel → free again keeps 50/50 (and fixed usage); the next consume is 429 until the period ends", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const full = await consume(user.token, "messages", { delta: 50, clientReqId: randomUUID() });
    expect(full.body.data).toMatchObject({ used: 50, remaining: 0 });
    await consume(user.token, "knowledge-bases", { delta: 2, clientReqId: randomUUID() });

    expect((await cancel(user.browser)).status).toBe(200);
    await subscribeFree(user, agent);

    expect(await usageOf(user.token, "messages")).toMatchObject({
      used: 50,
      remaining: 0,
      resetsAt: full.body.data.resetsAt,
    });
    expect(await usageOf(user.token, "knowledge-bases")).toMatchObject({ used: 2 });
    const refused = await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
    expect(refused.status).toBe(429);
    expect(refused.body.error?.details).toMatchObject({ remaining: 0, resetsAt: full.body.data.resetsAt });

    // The period the usage was counted in still ends when it always would have; then a new count starts.
    const after = new Date(new Date(full.body.data.resetsAt).getTime() + 1_000);
    const { rows } = await t.mp.database.sql.query<{ outcome: string; used: string }>(
      "SELECT * FROM usage_consume($1, $2, 'messages', 1, $3, NULL, $4)",
      [user.userId, agent.id, randomUUID(), after],
    );
    expect(rows[0]).toMatchObject({ outcome: "ok" });
    expect(Number(rows[0]!.used)).toBe(1);
  });

  it("F.3b an upgrade keeps used and raises the cap", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const full = await consume(user.token, "messages", { delta: 50, clientReqId: randomUUID() });
    expect(full.status).toBe(200);
    await checkoutPro(user.browser);
    const next = await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() });
    expect(next.status).toBe(200);
    expect(next.body.data).toMatchObject({ used: 51, effectiveQuota: 500, remaining: 449 });
    expect(next.body.data.resetsAt).toBe(full.body.data.resetsAt);
  });

  it("F.3c paid → free (at the period end) keeps used: above the free cap, consume is 429", async () => {
    const user = await agentUser(t, agent);
    await checkoutPro(user.browser);
    const used = await consume(user.token, "messages", { delta: 120, clientReqId: randomUUID() });
    expect(used.body.data).toMatchObject({ used: 120, effectiveQuota: 500 });
    // A paid plan moves to Free at its period end (subscriptions/plan-changes.ts); let that moment pass.
    const scheduled = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.free.id,
      returnUrl: `https://${agent.slug}.example.com/`,
    });
    expect(scheduled.body.data).toMatchObject({ status: "scheduled" });
    await t.mp.database.db
      .update(subscriptions)
      .set({ currentPeriodEnd: new Date(Date.now() - 1_000) })
      .where(eq(subscriptions.id, scheduled.body.data.subscriptionId));
    expect((await call(user.browser, "GET", `/me/subscriptions/${agent.id}`)).body.data).toMatchObject({
      tier: { tierName: "Free" },
    });
    expect(await usageOf(user.token, "messages")).toMatchObject({
      used: 120,
      effectiveQuota: 50,
      remaining: 0,
    });
    expect((await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() })).status).toBe(429);
  });

  it("F.3d a new anchor on the live subscription (Stripe moving billing_cycle_anchor) keeps the running count", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    await consume(user.token, "messages", { delta: 50, clientReqId: randomUUID() });
    await t.mp.database.db
      .update(subscriptions)
      .set({ periodAnchor: new Date(Date.now() - 3_600_000) })
      .where(eq(subscriptions.id, subscriptionId));
    expect((await consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() })).status).toBe(429);
  });
});
