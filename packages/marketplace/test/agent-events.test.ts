import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { subscriptions } from "../src/db/schema.ts";
import { retriesWithin } from "../src/events/delivery.ts";
import {
  adminBrowser,
  agentUser,
  call,
  confirmDevCheckout,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import type { Browser } from "./support/oauth.ts";
import { startReceiver, waitFor } from "./support/webhook-receiver.ts";

describe("events pushed to agents (webhooks)", () => {
  let t: TestMarketplace;
  let admin: Browser;
  let agent: DemoAgent;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let endpoint: { id: string; secret: string };

  beforeAll(async () => {
    t = await startTestMarketplace({ WEBHOOK_RETRY_DELAY_SECONDS: "1" });
    admin = await adminBrowser(t);
    agent = await registerAgent(admin, { calls: ["fixed", 10, 100] });
    receiver = await startReceiver();
    const created = await call(admin, "POST", `/agents/${agent.id}/webhooks`, { url: receiver.url });
    expect(created.status).toBe(201);
    endpoint = created.body.data;
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
  }, 60_000);
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
  });

  const eventsOf = (type: string, sub: string) =>
    [...receiver.applied.values()].filter((r) => r.payload.type === type && r.payload.data.sub === sub);

  it("shows the secret once: the list never carries it", async () => {
    const list = await call(admin, "GET", `/agents/${agent.id}/webhooks`);
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
    expect(JSON.stringify(list.body)).not.toContain(endpoint.secret);
    expect(t.logs.join("")).not.toContain(endpoint.secret);
  });

  it("refuses non-https endpoints other than localhost in development, and duplicates", async () => {
    const plain = await call(admin, "POST", `/agents/${agent.id}/webhooks`, {
      url: "http://agent.example.com/h",
    });
    expect(plain.status).toBe(422);
    expect(plain.body.error?.details?.reason).toBe("INVALID_WEBHOOK_URL");
    const junk = await call(admin, "POST", `/agents/${agent.id}/webhooks`, { url: "not a url" });
    expect(junk.status).toBe(400);
    const twice = await call(admin, "POST", `/agents/${agent.id}/webhooks`, { url: receiver.url });
    expect(twice.status).toBe(409);
    const missing = await call(admin, "GET", `/agents/nope/webhooks`);
    expect(missing.status).toBe(404);
  });

  it("a checkout pushes subscription.created, signed (Standard Webhooks) with the endpoint's secret", async () => {
    const who = await agentUser(t, agent);
    await subscribeFree(who, agent);
    const [event] = await waitFor("subscription.created", () => {
      const found = eventsOf("subscription.created", who.userId);
      return found.length ? found : undefined;
    });
    expect(receiver.verifies(event!, endpoint.secret)).toBe(true);
    expect(receiver.verifies(event!, "whsec_d3Jvbmcgc2VjcmV0IHdyb25nIHNlY3JldA==")).toBe(false);
    expect(event!.payload.id).toBe(event!.id);
    expect(event!.payload.data).toMatchObject({
      agentId: agent.id,
      sub: who.userId,
      sequence: 1,
      subscription: { status: "active", tier: { id: agent.free.id, isFree: true }, cancelAtPeriodEnd: false },
      addons: [],
    });
  });

  it("an endpoint that is down gets the event once it is back: nothing lost, applied once, logged", async () => {
    const who = await agentUser(t, agent);
    await subscribeFree(who, agent);
    await waitFor("created", () => eventsOf("subscription.created", who.userId).length > 0);
    receiver.setStatus(503);
    const canceled = await call(who.browser, "POST", `/me/subscriptions/${agent.id}/cancel`);
    expect(canceled.status).toBe(200);
    // The failed attempts are in the delivery log with the response code.
    const failing = await waitFor("a failed attempt in the log", async () => {
      const log = await call(admin, "GET", `/agents/${agent.id}/webhooks/${endpoint.id}/deliveries?limit=5`);
      const row = log.body.data.find(
        (d: { eventType: string; userId: string }) =>
          d.eventType === "subscription.canceled" && d.userId === who.userId,
      );
      return row?.attempts >= 1 ? row : undefined;
    });
    expect(failing).toMatchObject({ status: "pending", lastStatusCode: 503, lastError: "HTTP 503" });
    expect(eventsOf("subscription.canceled", who.userId)).toHaveLength(0);
    receiver.setStatus(200);
    const [event] = await waitFor(
      "the retried delivery",
      () => {
        const found = eventsOf("subscription.canceled", who.userId);
        return found.length ? found : undefined;
      },
      30_000,
    );
    expect(event!.payload.data).toMatchObject({ sequence: 2, subscription: { status: "canceled" } });
    const tries = receiver.requests.filter((r) => r.id === event!.id);
    expect(tries.length).toBeGreaterThanOrEqual(2);
    expect(new Set(tries.map((r) => r.body)).size).toBe(1);
    const log = await call(
      admin,
      "GET",
      `/agents/${agent.id}/webhooks/${endpoint.id}/deliveries?status=delivered`,
    );
    const row = log.body.data.find((d: { eventId: string }) => d.eventId === event!.id);
    expect(row).toMatchObject({ status: "delivered", lastStatusCode: 200, lastError: null });
    expect(row.attempts).toBe(tries.length);
  }, 60_000);

  it("replay sends the same event (same id and body) again", async () => {
    const log = await call(
      admin,
      "GET",
      `/agents/${agent.id}/webhooks/${endpoint.id}/deliveries?status=delivered&limit=1`,
    );
    const delivery = log.body.data[0];
    const before = receiver.requests.filter((r) => r.id === delivery.eventId);
    const replay = await call(
      admin,
      "POST",
      `/agents/${agent.id}/webhooks/${endpoint.id}/deliveries/${delivery.id}/replay`,
    );
    expect(replay.status).toBe(200);
    const after = await waitFor("the replay", () => {
      const now = receiver.requests.filter((r) => r.id === delivery.eventId);
      return now.length > before.length ? now : undefined;
    });
    expect(after.at(-1)!.body).toBe(before[0]!.body);
    const wrong = await call(
      admin,
      "POST",
      `/agents/${agent.id}/webhooks/${endpoint.id}/deliveries/dlv_nope/replay`,
    );
    expect(wrong.status).toBe(404);
  });

  it("an addon grant pushes entitlements.updated with the effective addons", async () => {
    const who = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(who, agent);
    const granted = await call(admin, "POST", `/admin/subscriptions/${subscriptionId}/addons`, {
      metricSlug: "calls",
      amount: 50,
      scope: "permanent",
    });
    expect(granted.status).toBe(201);
    const [event] = await waitFor("entitlements.updated", () => {
      const found = eventsOf("entitlements.updated", who.userId);
      return found.length ? found : undefined;
    });
    expect(event!.payload.data.sequence).toBe(2);
    expect(event!.payload.data.addons).toMatchObject([
      { metricSlug: "calls", amount: 50, scope: "permanent" },
    ]);
  });

  it("plan changes push their events in order: cancel at period end, resume, scheduled downgrade, period end", async () => {
    const who = await agentUser(t, agent);
    const paid = await call(who.browser, "POST", `/me/subscriptions/${agent.id}/plan`, {
      tierId: agent.pro.id,
      returnUrl: `https://${agent.slug}.example.com/`,
    });
    await confirmDevCheckout(who.browser, paid.body.data.url);
    const plan = (path: string, body?: unknown) =>
      call(who.browser, "POST", `/me/subscriptions/${agent.id}/${path}`, body);
    expect((await plan("cancel")).status).toBe(200);
    expect((await plan("resume")).status).toBe(200);
    const down = await plan("plan", {
      tierId: agent.free.id,
      returnUrl: `https://${agent.slug}.example.com/`,
    });
    expect(down.body.data.status).toBe("scheduled");
    // Time passes: the paid period ends, and the next read settles the scheduled downgrade.
    await t.mp.database.db
      .update(subscriptions)
      .set({ currentPeriodEnd: new Date(Date.now() - 1_000) })
      .where(eq(subscriptions.id, down.body.data.subscriptionId));
    expect((await call(who.browser, "GET", `/me/subscriptions/${agent.id}`)).body.data.tier.id).toBe(
      agent.free.id,
    );

    const events = await waitFor("five plan events", () => {
      const mine = [...receiver.applied.values()]
        .filter((r) => r.payload.data.sub === who.userId)
        .sort((a, b) => a.payload.data.sequence - b.payload.data.sequence);
      return mine.length >= 5 ? mine : undefined;
    });
    expect(
      events.map((e) => [
        e.payload.type,
        e.payload.data.sequence,
        e.payload.data.subscription.tier.id,
        e.payload.data.subscription.cancelAtPeriodEnd,
      ]),
    ).toEqual([
      ["subscription.created", 1, agent.pro.id, false],
      ["subscription.updated", 2, agent.pro.id, true],
      ["subscription.updated", 3, agent.pro.id, false],
      ["subscription.updated", 4, agent.pro.id, true],
      ["subscription.updated", 5, agent.free.id, false],
    ]);
  });

  it("rotation with overlap: both secrets sign; without overlap only the new one", async () => {
    const rotated = await call(admin, "POST", `/agents/${agent.id}/webhooks/${endpoint.id}/rotate`, {
      overlapSeconds: 3600,
    });
    expect(rotated.status).toBe(200);
    const next = rotated.body.data.secret as string;
    expect(next).not.toBe(endpoint.secret);
    expect(rotated.body.data.previousSecretExpiresAt).not.toBeNull();
    const who = await agentUser(t, agent);
    await subscribeFree(who, agent);
    const [during] = await waitFor("an event during the overlap", () => {
      const found = eventsOf("subscription.created", who.userId);
      return found.length ? found : undefined;
    });
    expect(receiver.verifies(during!, endpoint.secret)).toBe(true);
    expect(receiver.verifies(during!, next)).toBe(true);

    const again = await call(admin, "POST", `/agents/${agent.id}/webhooks/${endpoint.id}/rotate`, {
      overlapSeconds: 0,
    });
    const last = again.body.data.secret as string;
    const other = await agentUser(t, agent);
    await subscribeFree(other, agent);
    const [after] = await waitFor("an event after a rotation without overlap", () => {
      const found = eventsOf("subscription.created", other.userId);
      return found.length ? found : undefined;
    });
    expect(receiver.verifies(after!, last)).toBe(true);
    expect(receiver.verifies(after!, next)).toBe(false);
    endpoint.secret = last;
    const bad = await call(admin, "POST", `/agents/${agent.id}/webhooks/${endpoint.id}/rotate`, {
      overlapSeconds: -1,
    });
    expect(bad.status).toBe(400);
  });

  it("agent.status_changed reaches the agent's endpoints (deactivation, last: it ends the agent)", async () => {
    const removed = await call(admin, "DELETE", `/agents/${agent.id}`);
    expect(removed.status).toBe(200);
    const found = await waitFor("agent.status_changed", () =>
      [...receiver.applied.values()].find((r) => r.payload.type === "agent.status_changed"),
    );
    expect(receiver.verifies(found, endpoint.secret)).toBe(true);
    expect(found.payload.data).toMatchObject({ agentId: agent.id, sub: null, agent: { status: "inactive" } });
  });

  it("retries fit three days", () => {
    const retries = retriesWithin(3 * 86_400, 30, 6 * 3600);
    expect(retries).toBeGreaterThan(10);
    let total = 0;
    for (let n = 0; n < retries; n++) total += Math.min(6 * 3600, 30 * 2 ** n);
    expect(total).toBeLessThanOrEqual(3 * 86_400);
    expect(total + 6 * 3600).toBeGreaterThan(3 * 86_400);
  });
});
