import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscriptions } from "../src/db/schema.ts";
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

/**
 * The subscriber's plan changes (issue 12): cancel at period end with resume,
 * upgrade now, paid → free scheduled for the period end, and the lazy
 * period-end transition — all through the HTTP API, as the web app calls it.
 */
let t: TestMarketplace;
let admin: Browser;
beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
});
afterAll(() => t?.close());

const returnUrl = (agent: DemoAgent) => `https://${agent.slug}.example.com/`;

async function proUser(agent: DemoAgent) {
  const user = await agentUser(t, agent);
  const paid = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
    tierId: agent.pro.id,
    returnUrl: returnUrl(agent),
  });
  expect(paid.body.data.status).toBe("redirect");
  await confirmDevCheckout(user.browser, paid.body.data.url);
  return user;
}

/** Moves the live subscription's period end into the past, as time passing would. */
async function endPeriod(subscriptionId: string) {
  await t.mp.database.db
    .update(subscriptions)
    .set({ currentPeriodEnd: new Date(Date.now() - 1_000) })
    .where(eq(subscriptions.id, subscriptionId));
}

describe("plan changes", () => {
  it("cancel keeps a paid plan until the period end, resume undoes it, and at the period end access ends", async () => {
    const agent = await registerAgent(admin, {});
    const user = await proUser(agent);
    const cancelled = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.data).toMatchObject({
      status: "active",
      cancelAtPeriodEnd: true,
      tier: { tierName: "Pro" },
    });
    expect(Date.parse(cancelled.body.data.currentPeriodEnd)).toBeGreaterThan(Date.now());
    // Still Pro for the agent until then.
    const live = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(live.body.data).toMatchObject({ status: "active", cancelAtPeriodEnd: true });

    const resumed = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/resume`);
    expect(resumed.body.data).toMatchObject({
      status: "active",
      cancelAtPeriodEnd: false,
      scheduledTierId: null,
    });
    expect((await call(user.browser, "POST", `/me/subscriptions/${agent.id}/resume`)).status).toBe(409);

    await call(user.browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
    await endPeriod(cancelled.body.data.id);
    expect((await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(404);
    const all = await call(user.browser, "GET", "/me/subscriptions");
    expect(all.body.data.find((s: { id: string }) => s.id === cancelled.body.data.id)).toMatchObject({
      status: "canceled",
    });
  });

  it("paid → free is scheduled for the period end (not refused), then the free tier takes over", async () => {
    const agent = await registerAgent(admin, {});
    const user = await proUser(agent);
    const down = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.free.id,
      returnUrl: returnUrl(agent),
    });
    expect(down.status).toBe(200);
    expect(down.body.data).toMatchObject({ status: "scheduled", returnUrl: returnUrl(agent) });
    const pending = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(pending.body.data).toMatchObject({
      tier: { tierName: "Pro" },
      cancelAtPeriodEnd: true,
      scheduledTierId: agent.free.id,
      currentPeriodEnd: down.body.data.effectiveAt,
    });

    await endPeriod(down.body.data.subscriptionId);
    // Every read path applies the transition, and many at once (on PostgreSQL: truly concurrent) still end the
    // old row once and make exactly one new subscription: no 5xx from the one-live-row index, no duplicate.
    const reads = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2
          ? bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)
          : call(user.browser, "GET", "/me/subscriptions"),
      ),
    );
    expect(reads.map((r) => r.status)).toEqual(reads.map(() => 200));
    const a = reads[1]!;
    const b = await call(user.browser, "GET", "/me/subscriptions");
    expect(a.body.data).toMatchObject({
      status: "active",
      tier: { tierName: "Free" },
      cancelAtPeriodEnd: false,
    });
    const rows = b.body.data.filter((s: { agentId: string }) => s.agentId === agent.id);
    expect(
      rows
        .map((s: { tier: { tierName: string }; status: string }) => `${s.tier.tierName}:${s.status}`)
        .sort(),
    ).toEqual(["Free:active", "Pro:canceled"]);
  });

  it("a charge after the period end, before any read settled it, meets the new plan: refused after a cancel, the free quota after a downgrade", async () => {
    const agent = await registerAgent(admin, { calls: ["rolling", 1, 100] });
    const charge = (token: string) =>
      bearerCall(t.url, token, "POST", `/me/agents/${agent.id}/usage/calls/consume`, {
        delta: 1,
        clientReqId: randomUUID(),
      });

    const gone = await proUser(agent);
    const cancelled = await call(gone.browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
    await endPeriod(cancelled.body.data.id);
    expect((await charge(gone.token)).status).toBe(402);

    const down = await proUser(agent);
    const scheduled = await call(down.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.free.id,
      returnUrl: returnUrl(agent),
    });
    await endPeriod(scheduled.body.data.subscriptionId);
    const first = await charge(down.token);
    expect(first.status).toBe(200);
    expect(first.body.data).toMatchObject({ used: 1, effectiveQuota: 1 });
    expect((await charge(down.token)).status).toBe(429);
  });

  it("upgrade acts through checkout; the same tier again is a 409; a free plan cancels at once", async () => {
    const agent = await registerAgent(admin, {});
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const up = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.pro.id,
      returnUrl: returnUrl(agent),
    });
    await confirmDevCheckout(user.browser, up.body.data.url);
    const pro = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(pro.body.data).toMatchObject({
      tier: { tierName: "Pro" },
      cancelAtPeriodEnd: false,
      scheduledTierId: null,
    });

    const same = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.pro.id,
      returnUrl: returnUrl(agent),
    });
    expect(same.status).toBe(409);

    const free = await agentUser(t, agent);
    await subscribeFree(free, agent);
    const ended = await call(free.browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
    expect(ended.body.data).toMatchObject({ status: "canceled" });
    expect((await bearerCall(t.url, free.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(404);
  });

  it("bad input is a 4xx envelope and changes nothing", async () => {
    const agent = await registerAgent(admin, {});
    const user = await proUser(agent);
    const cases = [
      [{ tierId: agent.free.id }, 400],
      [{ tierId: agent.free.id, returnUrl: "https://evil.example/" }, 422],
      [{ tierId: "no-such-tier", returnUrl: returnUrl(agent) }, 404],
      [{ tierId: agent.free.id, returnUrl: returnUrl(agent), extra: 1 }, 400],
    ] as const;
    for (const [body, status] of cases) {
      const response = await call(user.browser, "POST", `/me/subscriptions/${agent.id}/plan`, body);
      expect(response.status, JSON.stringify(body)).toBe(status);
      expect(response.body.status).toBe("error");
    }
    const other = await registerAgent(admin, {});
    expect((await call(user.browser, "POST", `/me/subscriptions/${other.id}/cancel`)).status).toBe(404);
    const live = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(live.body.data).toMatchObject({
      tier: { tierName: "Pro" },
      cancelAtPeriodEnd: false,
      scheduledTierId: null,
    });
  });
});
