import type { PricingTierDto } from "@amp/contract";
import { Layout } from "./layout.tsx";

/** The same wording as the web app (apps/marketplace-web/src/app/format.ts): "$19 / month". */
const money = (tier: PricingTierDto) => {
  const value = Number(tier.price);
  const amount = new Intl.NumberFormat("en-US", {
    style: "currency",
    currency: tier.currency,
    minimumFractionDigits: Number.isInteger(value) ? 0 : 2,
  }).format(value);
  return tier.billingInterval === "one_time" ? `${amount} once` : `${amount} / ${tier.billingInterval}`;
};

export function DevCheckoutPage(p: { csrf: string; token: string; agentName: string; tier: PricingTierDto }) {
  return (
    <Layout title="Development checkout">
      <p class="alert" role="note">
        <strong>Development checkout.</strong> Stripe is not configured, so no payment is taken. Confirming
        activates the subscription directly.
      </p>
      <h1>
        {p.agentName}: {p.tier.tierName}
      </h1>
      <p class="price">{money(p.tier)}</p>
      <form method="post" action="/dev-checkout">
        <input type="hidden" name="csrf" value={p.csrf} />
        <input type="hidden" name="token" value={p.token} />
        <button type="submit">Confirm (no charge)</button>
      </form>
    </Layout>
  );
}
