import type { MetricDefinitionDto, PricingTierDto, QuotaDto } from "@amp/contract";

/** Every number and date on screen goes through these: one locale, one style. */
const LOCALE = "en-US";
const integer = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 0 });
const dateFormat = new Intl.DateTimeFormat(LOCALE, { year: "numeric", month: "short", day: "numeric" });

export const formatNumber = (value: number) => integer.format(value);
export const formatDate = (iso: string) => dateFormat.format(new Date(iso));

export function formatMoney(amount: string, currency: string): string {
  const value = Number(amount);
  return new Intl.NumberFormat(LOCALE, {
    style: "currency",
    currency,
    minimumFractionDigits: Number.isInteger(value) ? 0 : 2,
  }).format(value);
}

const PERIOD: Record<PricingTierDto["billingInterval"], string> = {
  month: "month",
  year: "year",
  one_time: "",
};

/** "$19 / month", "Free", "$49 once". */
export function formatPrice(tier: Pick<PricingTierDto, "isFree" | "price" | "currency" | "billingInterval">) {
  if (tier.isFree) return "Free";
  const money = formatMoney(tier.price, tier.currency);
  return tier.billingInterval === "one_time" ? `${money} once` : `${money} / ${PERIOD[tier.billingInterval]}`;
}

/** The cheapest tier's price, as a card's "from" line. */
export function fromPrice(tiers: PricingTierDto[]): string | null {
  if (tiers.length === 0) return null;
  const cheapest = [...tiers].sort((a, b) => Number(a.price) - Number(b.price))[0]!;
  return cheapest.isFree ? "Free plan available" : `From ${formatPrice(cheapest)}`;
}

/** A feature is a fixed metric whose unit is "feature": quota 0 = off, anything else = on. */
export const isFeature = (metric: Pick<MetricDefinitionDto, "unit">) => /^features?$/i.test(metric.unit);

export interface QuotaLine {
  metric: MetricDefinitionDto;
  /** "20 questions per month", "3 knowledge bases", "Unlimited questions". */
  text: string;
  /** For features: included or not. */
  included: boolean;
  feature: boolean;
}

/**
 * How a plan's quota reads: rolling metrics per billing period, fixed ones as
 * a total; features as included / not included. No row = deny (CONTRACT.md §5).
 */
export function quotaLines(
  tier: Pick<PricingTierDto, "billingInterval">,
  metrics: MetricDefinitionDto[],
  quotas: QuotaDto[],
): QuotaLine[] {
  return metrics.map((metric) => {
    const row = quotas.find((q) => q.metricId === metric.id);
    const limit = row ? row.quotaLimit : 0;
    if (isFeature(metric)) {
      const included = limit === null || limit > 0;
      return { metric, feature: true, included, text: metric.displayName };
    }
    const unit = metric.unit.toLowerCase();
    const per =
      metric.kind === "rolling" && tier.billingInterval !== "one_time"
        ? ` per ${PERIOD[tier.billingInterval]}`
        : "";
    const text =
      limit === null ? `Unlimited ${unit}` : limit === 0 ? `No ${unit}` : `${amount(limit, unit)}${per}`;
    return { metric, feature: false, included: limit === null || limit > 0, text };
  });
}

/** "1 question" / "20 questions": units are stored plural; drop a trailing "s" for one. */
export function amount(value: number, unit: string): string {
  const word = value === 1 && unit.endsWith("s") ? unit.slice(0, -1) : unit;
  return `${formatNumber(value)} ${word}`;
}
