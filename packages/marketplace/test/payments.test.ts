import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ApiError } from "../src/http/api-error.ts";
import type { Payments } from "../src/payments/payments.ts";
import { createTier } from "../src/pricing/service.ts";
import { adminBrowser, agentUser, bearerCall, call, registerAgent } from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";

/** A recording stand-in for Stripe: the real SDK needs the network, these tests check what we ask of it. */
class FakeStripe implements Payments {
  calls: { method: string; input: unknown }[] = [];
  private n = 0;
  async createProductAndPrice(input: unknown) {
    this.calls.push({ method: "createProductAndPrice", input });
    this.n++;
    return { productId: `prod_${this.n}`, priceId: `price_${this.n}` };
  }
  async archivePrice(productId: string | null, priceId: string | null) {
    this.calls.push({ method: "archivePrice", input: { productId, priceId } });
  }
  async createCheckoutSession(input: unknown) {
    this.calls.push({ method: "createCheckoutSession", input });
    return "https://checkout.stripe.test/c/pay/cs_test_1";
  }
  async cancelAtPeriodEnd(id: string) {
    this.calls.push({ method: "cancelAtPeriodEnd", input: id });
  }
  async resumeSubscription(id: string) {
    this.calls.push({ method: "resumeSubscription", input: id });
  }
}

let t: TestMarketplace;
const stripe = new FakeStripe();
beforeAll(async () => {
  t = await startTestMarketplace({}, { payments: stripe });
});
afterAll(() => t?.close());

describe("paid tiers with Stripe configured", () => {
  it("creating a paid tier creates a Stripe product and price; archiving archives them", async () => {
    const admin = await adminBrowser(t);
    const agent = await registerAgent(admin, {});
    const tiers = await (await fetch(`${t.url}/agents/${agent.id}/pricing`)).json();
    const pro = tiers.data.find((tier: { tierName: string }) => tier.tierName === "Pro");
    expect(pro).toMatchObject({
      stripeProductId: expect.stringMatching(/^prod_/),
      stripePriceId: expect.stringMatching(/^price_/),
    });
    expect(stripe.calls.find((c) => c.method === "createProductAndPrice")!.input).toMatchObject({
      tierName: "Pro",
      amount: "19.00",
      currency: "USD",
      interval: "month",
    });
    await call(admin, "DELETE", `/agents/${agent.id}/pricing/${agent.pro.id}`);
    expect(stripe.calls.at(-1)).toEqual({
      method: "archivePrice",
      input: { productId: pro.stripeProductId, priceId: pro.stripePriceId },
    });
  });

  it("checkout of a paid tier answers a Stripe Checkout redirect carrying userId, agentId and tierId", async () => {
    const admin = await adminBrowser(t);
    const agent = await registerAgent(admin, {}, { trialDays: 7 });
    const user = await agentUser(t, agent);
    const result = await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.pro.id}/checkout`, {
      returnUrl: `https://${agent.slug}.example.com/billing/return`,
    });
    expect(result.body.data).toEqual({
      status: "redirect",
      url: "https://checkout.stripe.test/c/pay/cs_test_1",
    });
    expect(stripe.calls.at(-1)!.input).toMatchObject({
      recurring: true,
      trialDays: 7,
      customerEmail: user.email,
      metadata: { userId: user.userId, agentId: agent.id, tierId: agent.pro.id },
      successUrl: `https://${agent.slug}.example.com/billing/return`,
    });
    // Nothing is live until Stripe's webhook says so.
    expect((await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(404);
  });
});

describe("paid tiers without Stripe in production", () => {
  it("are refused with 503 SERVICE_UNAVAILABLE", async () => {
    const admin = await adminBrowser(t);
    const agent = await registerAgent(admin, {});
    const attempt = createTier(t.mp.database.db, { payments: null, devCheckout: false }, agent.id, {
      tierName: "Enterprise",
      isFree: false,
      price: "99.00",
      currency: "USD",
      billingInterval: "month",
      featuresIncluded: [],
      recommended: false,
      trialDays: 0,
      sortOrder: 5,
    });
    await expect(attempt).rejects.toMatchObject({ code: "SERVICE_UNAVAILABLE", status: 503 });
    await expect(attempt).rejects.toBeInstanceOf(ApiError);
  });
});
