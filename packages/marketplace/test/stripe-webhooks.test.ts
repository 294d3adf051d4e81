import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import Stripe from "stripe";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pricingTiers, stripeEvents, subscriptions } from "../src/db/schema.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  call,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import type { Browser } from "./support/oauth.ts";

const SECRET = "whsec_test_secret_for_the_suite";
const stripe = new Stripe("sk_test_unused");
let t: TestMarketplace;
let admin: Browser;
let agent: DemoAgent;
const PRO_PRICE = `price_${randomUUID().slice(0, 8)}`;
const FREE_PRICE = `price_${randomUUID().slice(0, 8)}`;

beforeAll(async () => {
  t = await startTestMarketplace({ STRIPE_WEBHOOK_SECRET: SECRET });
  admin = await adminBrowser(t);
  agent = await registerAgent(admin, { messages: ["rolling", 5, 100] });
  // As if Stripe had created the prices for these tiers.
  await t.mp.database.db
    .update(pricingTiers)
    .set({ stripePriceId: PRO_PRICE })
    .where(eq(pricingTiers.id, agent.pro.id));
  await t.mp.database.db
    .update(pricingTiers)
    .set({ stripePriceId: FREE_PRICE })
    .where(eq(pricingTiers.id, agent.free.id));
});
afterAll(() => t?.close());

let clock = Math.floor(Date.now() / 1000);
function event(type: string, object: Record<string, unknown>, created = ++clock) {
  return {
    id: `evt_${randomUUID().replaceAll("-", "")}`,
    object: "event",
    type,
    created,
    data: { object },
    api_version: "2026-10-28.endive",
  };
}

async function deliver(payload: object, secret = SECRET) {
  const body = JSON.stringify(payload);
  const signature = stripe.webhooks.generateTestHeaderString({ payload: body, secret });
  return fetch(`${t.url}/webhooks/stripe`, {
    method: "POST",
    headers: { "content-type": "application/json", "stripe-signature": signature },
    body,
  });
}

const subscriptionObject = (
  id: string,
  meta: Record<string, string>,
  over: Record<string, unknown> = {},
) => ({
  id,
  object: "subscription",
  status: "active",
  customer: "cus_123",
  cancel_at_period_end: false,
  canceled_at: null,
  billing_cycle_anchor: clock,
  metadata: meta,
  items: { data: [{ price: { id: PRO_PRICE }, current_period_end: clock + 30 * 86_400 }] },
  ...over,
});

async function rowOf(stripeSubscriptionId: string) {
  const [row] = await t.mp.database.db
    .select()
    .from(subscriptions)
    .where(eq(subscriptions.stripeSubscriptionId, stripeSubscriptionId));
  return row;
}

describe("POST /webhooks/stripe", () => {
  it("a bad signature is 400 and stores nothing", async () => {
    const payload = event("customer.subscription.updated", subscriptionObject("sub_bad", {}));
    const forged = await deliver(payload, "whsec_someone_else");
    expect(forged.status).toBe(400);
    const missing = await fetch(`${t.url}/webhooks/stripe`, {
      method: "POST",
      body: JSON.stringify(payload),
    });
    expect(missing.status).toBe(400);
    expect(await t.mp.database.db.select().from(stripeEvents).where(eq(stripeEvents.id, payload.id))).toEqual(
      [],
    );
  });

  it("checkout.session.completed + subscription events make the paid subscription live, replacing Free", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const meta = { userId: user.userId, agentId: agent.id, tierId: agent.pro.id };
    const subId = `sub_${randomUUID().slice(0, 8)}`;
    const completed = await deliver(
      event("checkout.session.completed", {
        id: "cs_1",
        object: "checkout.session",
        mode: "subscription",
        subscription: subId,
        customer: "cus_123",
        metadata: meta,
      }),
    );
    expect(completed.status).toBe(200);
    expect(await completed.json()).toMatchObject({ received: true, processed: true });
    const live = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(live.body.data).toMatchObject({
      tier: { tierName: "Pro" },
      status: "active",
      stripeSubscriptionId: subId,
    });

    await deliver(event("customer.subscription.created", subscriptionObject(subId, meta)));
    const row = await rowOf(subId);
    expect(row!.currentPeriodEnd!.getTime()).toBeGreaterThan(Date.now());
    expect(row!.stripeCustomerId).toBe("cus_123");
    const all = await call(user.browser, "GET", "/me/subscriptions");
    expect(all.body.data.filter((s: { status: string }) => s.status === "active")).toHaveLength(1);
  });

  it("duplicates are harmless and out-of-order events never move a subscription backwards", async () => {
    const user = await agentUser(t, agent);
    const meta = { userId: user.userId, agentId: agent.id, tierId: agent.pro.id };
    const subId = `sub_${randomUUID().slice(0, 8)}`;
    const created = event("customer.subscription.created", subscriptionObject(subId, meta));
    const pastDue = event(
      "customer.subscription.updated",
      subscriptionObject(subId, meta, { status: "past_due" }),
    );
    const recovered = event(
      "customer.subscription.updated",
      subscriptionObject(subId, meta, { status: "active", cancel_at_period_end: true }),
    );
    // Delivered newest first, each twice.
    for (const e of [recovered, recovered, created, pastDue, created])
      expect((await deliver(e)).status).toBe(200);
    const row = await rowOf(subId);
    expect(row).toMatchObject({ status: "active", cancelAtPeriodEnd: true });
    const stored = await t.mp.database.db
      .select()
      .from(stripeEvents)
      .where(eq(stripeEvents.id, recovered.id));
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe("processed");
  });

  it("subscription.updated moves the tier by price; invoice.payment_failed sets past_due; deleted cancels", async () => {
    const user = await agentUser(t, agent);
    const meta = { userId: user.userId, agentId: agent.id, tierId: agent.pro.id };
    const subId = `sub_${randomUUID().slice(0, 8)}`;
    await deliver(event("customer.subscription.created", subscriptionObject(subId, meta)));
    await deliver(
      event("invoice.payment_succeeded", {
        id: "in_ok",
        object: "invoice",
        parent: { subscription_details: { subscription: subId } },
      }),
    );
    expect((await rowOf(subId))!.status).toBe("active");
    await deliver(event("invoice.payment_failed", { id: "in_1", object: "invoice", subscription: subId }));
    expect((await rowOf(subId))!.status).toBe("past_due");
    expect(
      (
        await bearerCall(t.url, user.token, "POST", `/me/agents/${agent.id}/usage/messages/consume`, {
          delta: 1,
          clientReqId: randomUUID(),
        })
      ).status,
    ).toBe(402);
    await deliver(
      event(
        "customer.subscription.updated",
        subscriptionObject(subId, meta, {
          items: { data: [{ price: { id: FREE_PRICE }, current_period_end: clock + 86_400 }] },
        }),
      ),
    );
    expect(await rowOf(subId)).toMatchObject({ status: "active", tierId: agent.free.id });
    await deliver(
      event(
        "customer.subscription.deleted",
        subscriptionObject(subId, meta, { status: "canceled", canceled_at: clock }),
      ),
    );
    expect((await rowOf(subId))!.status).toBe("canceled");
    // A late "updated" from before the deletion changes nothing.
    await deliver(event("customer.subscription.updated", subscriptionObject(subId, meta), clock - 100));
    expect((await rowOf(subId))!.status).toBe("canceled");
  });

  it("a failing event is stored as error and can be replayed once the cause is fixed", async () => {
    const user = await agentUser(t, agent);
    const ghostTier = randomUUID();
    const subId = `sub_${randomUUID().slice(0, 8)}`;
    const meta = { userId: user.userId, agentId: agent.id, tierId: ghostTier };
    const broken = event("checkout.session.completed", {
      id: "cs_x",
      object: "checkout.session",
      subscription: subId,
      customer: "cus_9",
      metadata: meta,
    });
    const response = await deliver(broken);
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ processed: false });
    const [stored] = await t.mp.database.db.select().from(stripeEvents).where(eq(stripeEvents.id, broken.id));
    expect(stored).toMatchObject({ status: "error" });
    // Fix the cause (the tier now exists under that id), then replay.
    await t.mp.database.db.insert(pricingTiers).values({
      id: ghostTier,
      agentId: agent.id,
      tierName: `Team ${ghostTier.slice(0, 4)}`,
      isFree: false,
      price: "49.00",
      currency: "USD",
      billingInterval: "month",
      featuresIncluded: [],
      recommended: false,
      trialDays: 0,
      sortOrder: 9,
    });
    const replay = await t.mp.webhooks.replayFailed();
    expect(replay.processed).toBeGreaterThanOrEqual(1);
    expect((await rowOf(subId))!.tierId).toBe(ghostTier);
  });
});
