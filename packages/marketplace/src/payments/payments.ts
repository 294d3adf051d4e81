import Stripe from "stripe";
import { ApiError } from "../http/api-error.ts";

/**
 * What the marketplace needs from a payment processor. The real
 * implementation is Stripe; with no key configured there is none, and
 * (outside production) paid tiers go through the development checkout.
 */
export interface Payments {
  createProductAndPrice(input: {
    agentName: string;
    tierName: string;
    amount: string;
    currency: string;
    interval: "month" | "year" | "one_time";
  }): Promise<{ productId: string; priceId: string }>;
  archivePrice(productId: string | null, priceId: string | null): Promise<void>;
  createCheckoutSession(input: {
    priceId: string;
    recurring: boolean;
    trialDays: number;
    customerEmail: string;
    metadata: { userId: string; agentId: string; tierId: string };
    successUrl: string;
    cancelUrl: string;
  }): Promise<string>;
  cancelAtPeriodEnd(stripeSubscriptionId: string): Promise<void>;
  /** Undoes `cancelAtPeriodEnd`: the subscription renews again. */
  resumeSubscription(stripeSubscriptionId: string): Promise<void>;
}

/** Verifies webhook signatures; separate from `Payments` because it needs only the signing secret. */
export interface WebhookVerifier {
  verify(rawBody: string, signature: string): Promise<Stripe.Event>;
}

/** The configured Stripe payments, or a 503 naming what needed them (no STRIPE_SECRET_KEY). */
export function requireStripe(payments: Payments | null, what: string): Payments {
  if (!payments) throw new ApiError("SERVICE_UNAVAILABLE", `${what} needs a Stripe key.`);
  return payments;
}

export class StripePayments implements Payments {
  private readonly stripe: Stripe;
  constructor(secretKey: string) {
    this.stripe = new Stripe(secretKey, { maxNetworkRetries: 2, timeout: 10_000 });
  }

  async createProductAndPrice(input: Parameters<Payments["createProductAndPrice"]>[0]) {
    const product = await this.stripe.products.create({ name: `${input.agentName} — ${input.tierName}` });
    const price = await this.stripe.prices.create({
      product: product.id,
      currency: input.currency.toLowerCase(),
      unit_amount: Math.round(Number(input.amount) * 100),
      ...(input.interval === "one_time" ? {} : { recurring: { interval: input.interval } }),
    });
    return { productId: product.id, priceId: price.id };
  }

  async archivePrice(productId: string | null, priceId: string | null) {
    if (priceId) await this.stripe.prices.update(priceId, { active: false });
    if (productId) await this.stripe.products.update(productId, { active: false });
  }

  async createCheckoutSession(input: Parameters<Payments["createCheckoutSession"]>[0]) {
    const session = await this.stripe.checkout.sessions.create({
      mode: input.recurring ? "subscription" : "payment",
      line_items: [{ price: input.priceId, quantity: 1 }],
      customer_email: input.customerEmail,
      metadata: input.metadata,
      success_url: input.successUrl,
      cancel_url: input.cancelUrl,
      ...(input.recurring
        ? {
            subscription_data: {
              metadata: input.metadata,
              ...(input.trialDays > 0 ? { trial_period_days: input.trialDays } : {}),
            },
          }
        : {}),
    });
    if (!session.url) throw new Error("Stripe returned a checkout session without a URL");
    return session.url;
  }

  async cancelAtPeriodEnd(stripeSubscriptionId: string) {
    await this.stripe.subscriptions.update(stripeSubscriptionId, { cancel_at_period_end: true });
  }

  async resumeSubscription(stripeSubscriptionId: string) {
    await this.stripe.subscriptions.update(stripeSubscriptionId, { cancel_at_period_end: false });
  }
}

export class StripeWebhookVerifier implements WebhookVerifier {
  private readonly stripe = new Stripe("sk_webhook_verification_only");
  constructor(private readonly secret: string) {}
  verify(rawBody: string, signature: string) {
    return this.stripe.webhooks.constructEventAsync(rawBody, signature, this.secret);
  }
}
