import type { MetricUsageDto, PricingTierDto, QuotaDto, SubscriptionDto } from "@amp/contract";
import { Alert, Layout } from "./layout.tsx";

const money = (tier: PricingTierDto) =>
  `${new Intl.NumberFormat("en", { style: "currency", currency: tier.currency }).format(Number(tier.price))}${
    tier.billingInterval === "one_time" ? "" : ` / ${tier.billingInterval}`
  }`;

/** A quota as a reader sees it; a boolean feature (unit "feature") is included or not. */
const quotaText = (q: QuotaDto | undefined, unit: string) => {
  if (q === undefined || q.quotaLimit === 0) return "not included";
  if (unit === "feature") return "included";
  return q.quotaLimit === null ? "unlimited" : q.quotaLimit.toLocaleString("en");
};

export function PricingPage(p: {
  agent: { name: string; slug: string; tagline: string | null };
  tiers: { tier: PricingTierDto; quotas: QuotaDto[] }[];
  metrics: { id: string; displayName: string; unit: string }[];
  currentTierId: string | null;
  signedIn: boolean;
  csrf: string;
  returnUrl: string;
  error?: string;
}) {
  return (
    <Layout title={`${p.agent.name} pricing`} wide>
      <h1>{p.agent.name}</h1>
      {p.agent.tagline ? <p class="muted">{p.agent.tagline}</p> : null}
      <Alert message={p.error} />
      <div class="tiers">
        {p.tiers.map(({ tier, quotas }) => (
          <section class={tier.recommended ? "tier recommended" : "tier"} aria-labelledby={`tier-${tier.id}`}>
            {tier.recommended ? <p class="badge">Recommended</p> : null}
            <h2 id={`tier-${tier.id}`}>{tier.tierName}</h2>
            <p class="price">{money(tier)}</p>
            {tier.trialDays > 0 ? <p class="muted">{tier.trialDays}-day free trial</p> : null}
            <ul>
              {p.metrics.map((m) => (
                <li>
                  {m.displayName}:{" "}
                  {quotaText(
                    quotas.find((q) => q.metricId === m.id),
                    m.unit,
                  )}
                </li>
              ))}
              {tier.featuresIncluded.map((f) => (
                <li>{f}</li>
              ))}
            </ul>
            {p.currentTierId === tier.id ? (
              <p class="current">Your current plan</p>
            ) : p.signedIn ? (
              <form method="post" action={`/pricing/${p.agent.slug}/subscribe`}>
                <input type="hidden" name="csrf" value={p.csrf} />
                <input type="hidden" name="tierId" value={tier.id} />
                <input type="hidden" name="returnUrl" value={p.returnUrl} />
                <button type="submit">
                  {tier.isFree ? `Choose ${tier.tierName}` : `Subscribe to ${tier.tierName}`}
                </button>
              </form>
            ) : (
              <a
                class="button"
                href={`/sign-in?next=${encodeURIComponent(`/pricing/${p.agent.slug}?returnUrl=${encodeURIComponent(p.returnUrl)}`)}`}
              >
                Sign in to subscribe
              </a>
            )}
          </section>
        ))}
      </div>
    </Layout>
  );
}

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

export function DashboardPage(p: {
  name: string;
  csrf: string;
  rows: { agentName: string; agentSlug: string; subscription: SubscriptionDto; usage: MetricUsageDto[] }[];
}) {
  return (
    <Layout title="Your subscriptions" wide>
      <h1>Your subscriptions</h1>
      <p class="muted">Signed in as {p.name}.</p>
      {p.rows.length === 0 ? <p>You have no subscriptions yet.</p> : null}
      {p.rows.map(({ agentName, agentSlug, subscription, usage }) => (
        <section class="tier" aria-label={agentName}>
          <h2>
            {agentName} — {subscription.tier.tierName}
          </h2>
          <p>
            Status: <strong>{subscription.status}</strong>
            {subscription.currentPeriodEnd ? ` · renews ${subscription.currentPeriodEnd.slice(0, 10)}` : ""}
            {subscription.cancelAtPeriodEnd ? " · cancels at period end" : ""}
          </p>
          {usage.map((u) => (
            <div class="meter">
              <label for={`m-${subscription.id}-${u.metricSlug}`}>
                {u.displayName}: {u.used} / {u.effectiveQuota ?? "∞"} {u.unit}
                {u.resetsAt ? ` (resets ${u.resetsAt.slice(0, 10)})` : ""}
              </label>
              <progress
                id={`m-${subscription.id}-${u.metricSlug}`}
                max={u.effectiveQuota ?? 1}
                value={u.effectiveQuota === null ? 0 : Math.min(u.used, u.effectiveQuota)}
              />
            </div>
          ))}
          <p>
            <a href={`/pricing/${agentSlug}`}>Change plan</a>
          </p>
          <form method="post" action={`/dashboard/cancel/${subscription.agentId}`}>
            <input type="hidden" name="csrf" value={p.csrf} />
            <button type="submit" class="secondary">
              Cancel subscription
            </button>
          </form>
        </section>
      ))}
    </Layout>
  );
}
