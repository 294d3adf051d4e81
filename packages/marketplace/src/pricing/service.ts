import { randomUUID } from "node:crypto";
import {
  type CreatePricingTierBodySchema,
  type MetricDefinitionDto,
  MetricDefinitionDtoSchema,
  type PricingTierDto,
  PricingTierDtoSchema,
  type QuotaDto,
} from "@amp/contract";
import { and, asc, eq, isNull } from "drizzle-orm";
import type { z } from "zod";
import { recordAudit } from "../audit/log.ts";
import { findAgent } from "../catalog/service.ts";
import type { Db } from "../db/database.ts";
import { metricDefinitions, pricingTiers, tierMetricQuotas } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { type Payments, requireStripe } from "../payments/payments.ts";

type TierRow = typeof pricingTiers.$inferSelect;
type MetricRow = typeof metricDefinitions.$inferSelect;

export const toTierDto = (row: TierRow): PricingTierDto =>
  PricingTierDtoSchema.parse({
    ...row,
    price: Number(row.price).toFixed(2),
    currency: row.currency.trim(),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });

export const toMetricDto = (row: MetricRow): MetricDefinitionDto =>
  MetricDefinitionDtoSchema.parse({ ...row, createdAt: row.createdAt.toISOString() });

/** Live (not archived) tiers of an agent, in display order. */
export async function listTiers(db: Db, agentId: string): Promise<TierRow[]> {
  return db
    .select()
    .from(pricingTiers)
    .where(and(eq(pricingTiers.agentId, agentId), isNull(pricingTiers.archivedAt)))
    .orderBy(asc(pricingTiers.sortOrder), asc(pricingTiers.createdAt));
}

export async function findTier(db: Db, agentId: string, tierId: string): Promise<TierRow> {
  const [row] = await db
    .select()
    .from(pricingTiers)
    .where(
      and(eq(pricingTiers.id, tierId), eq(pricingTiers.agentId, agentId), isNull(pricingTiers.archivedAt)),
    )
    .limit(1);
  if (!row) throw new ApiError("NOT_FOUND", "No such pricing tier.");
  return row;
}

/**
 * Creates a tier. A paid tier gets a Stripe product and price when Stripe is
 * configured; without Stripe it is refused (503) in production and, in
 * development, left to the development checkout.
 */
export async function createTier(
  db: Db,
  deps: { payments: Payments | null; devCheckout: boolean },
  agentId: string,
  input: z.output<typeof CreatePricingTierBodySchema>,
): Promise<TierRow> {
  const agent = await findAgent(db, agentId);
  const [clash] = await db
    .select({ id: pricingTiers.id })
    .from(pricingTiers)
    .where(
      and(
        eq(pricingTiers.agentId, agentId),
        eq(pricingTiers.tierName, input.tierName),
        isNull(pricingTiers.archivedAt),
      ),
    )
    .limit(1);
  if (clash) throw new ApiError("CONFLICT", `This agent already has a tier named "${input.tierName}".`);

  let stripe: { productId: string; priceId: string } | null = null;
  if (!input.isFree) {
    if (deps.payments) {
      stripe = await deps.payments.createProductAndPrice({
        agentName: agent.name,
        tierName: input.tierName,
        amount: input.price,
        currency: input.currency,
        interval: input.billingInterval,
      });
    } else if (!deps.devCheckout) {
      throw new ApiError("SERVICE_UNAVAILABLE", "Paid tiers need Stripe, and no Stripe key is configured.");
    }
  }
  const now = new Date();
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(pricingTiers)
      .values({
        id: randomUUID(),
        agentId,
        ...input,
        stripeProductId: stripe?.productId ?? null,
        stripePriceId: stripe?.priceId ?? null,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    await recordAudit(tx, { action: "tier.create", targetType: "tier", targetId: row!.id, after: row });
    return row!;
  });
}

/** Archives a tier (subscriptions keep pointing at it); its Stripe price is archived too. */
/** Changes how a tier is presented (name, features, badge, order, trial); never its price terms. */
export async function updateTier(
  db: Db,
  agentId: string,
  tierId: string,
  input: Partial<Pick<TierRow, "tierName" | "featuresIncluded" | "recommended" | "trialDays" | "sortOrder">>,
): Promise<TierRow> {
  const where = and(
    eq(pricingTiers.id, tierId),
    eq(pricingTiers.agentId, agentId),
    isNull(pricingTiers.archivedAt),
  );
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(pricingTiers).where(where).for("update");
    if (!before) throw new ApiError("NOT_FOUND", "No such pricing tier.");
    const [row] = await tx
      .update(pricingTiers)
      .set({ ...input, updatedAt: new Date() })
      .where(where)
      .returning();
    await recordAudit(tx, {
      action: "tier.update",
      targetType: "tier",
      targetId: tierId,
      before,
      after: row,
    });
    return row!;
  });
}

export async function archiveTier(db: Db, payments: Payments | null, agentId: string, tierId: string) {
  const tier = await findTier(db, agentId, tierId);
  if (tier.stripePriceId)
    await requireStripe(payments, "Archiving a Stripe price").archivePrice(
      tier.stripeProductId,
      tier.stripePriceId,
    );
  await db.transaction(async (tx) => {
    const [row] = await tx
      .update(pricingTiers)
      .set({ archivedAt: new Date(), updatedAt: new Date() })
      .where(eq(pricingTiers.id, tierId))
      .returning();
    await recordAudit(tx, {
      action: "tier.archive",
      targetType: "tier",
      targetId: tierId,
      before: tier,
      after: row,
    });
  });
}

export async function listMetrics(db: Db, agentId: string): Promise<MetricRow[]> {
  return db
    .select()
    .from(metricDefinitions)
    .where(eq(metricDefinitions.agentId, agentId))
    .orderBy(asc(metricDefinitions.createdAt), asc(metricDefinitions.slug));
}

export async function createMetric(
  db: Db,
  agentId: string,
  input: { slug: string; displayName: string; unit: string; kind: "fixed" | "rolling" },
): Promise<MetricRow> {
  await findAgent(db, agentId);
  const [clash] = await db
    .select({ id: metricDefinitions.id })
    .from(metricDefinitions)
    .where(and(eq(metricDefinitions.agentId, agentId), eq(metricDefinitions.slug, input.slug)))
    .limit(1);
  if (clash) throw new ApiError("CONFLICT", `This agent already has a metric "${input.slug}".`);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(metricDefinitions)
      .values({ id: randomUUID(), agentId, ...input, createdAt: new Date() })
      .returning();
    await recordAudit(tx, { action: "metric.create", targetType: "metric", targetId: row!.id, after: row });
    return row!;
  });
}

/** Only the labels change: slug and kind are immutable (CONTRACT.md §5). */
export async function updateMetric(
  db: Db,
  agentId: string,
  metricId: string,
  input: { displayName?: string; unit?: string },
): Promise<MetricRow> {
  const where = and(eq(metricDefinitions.id, metricId), eq(metricDefinitions.agentId, agentId));
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(metricDefinitions).where(where).for("update");
    if (!before) throw new ApiError("NOT_FOUND", "No such metric.");
    const [row] = await tx.update(metricDefinitions).set(input).where(where).returning();
    await recordAudit(tx, {
      action: "metric.update",
      targetType: "metric",
      targetId: metricId,
      before,
      after: row,
    });
    return row!;
  });
}

export async function findMetricBySlug(db: Db, agentId: string, slug: string): Promise<MetricRow> {
  const [row] = await db
    .select()
    .from(metricDefinitions)
    .where(and(eq(metricDefinitions.agentId, agentId), eq(metricDefinitions.slug, slug)))
    .limit(1);
  if (!row) throw new ApiError("NOT_FOUND", `No metric "${slug}" on this agent.`);
  return row;
}

/** Sets (upserts) a tier's quota for a metric: null unlimited, 0 deny, n cap. */
export async function setQuota(
  db: Db,
  agentId: string,
  tierId: string,
  metricId: string,
  quotaLimit: number | null,
) {
  await findTier(db, agentId, tierId);
  const [metric] = await db
    .select()
    .from(metricDefinitions)
    .where(and(eq(metricDefinitions.id, metricId), eq(metricDefinitions.agentId, agentId)))
    .limit(1);
  if (!metric) throw new ApiError("NOT_FOUND", "No such metric on this agent.");
  await db.transaction(async (tx) => {
    const key = and(eq(tierMetricQuotas.tierId, tierId), eq(tierMetricQuotas.metricId, metricId));
    const [before] = await tx.select().from(tierMetricQuotas).where(key).for("update");
    const [after] = await tx
      .insert(tierMetricQuotas)
      .values({ tierId, metricId, quotaLimit })
      .onConflictDoUpdate({
        target: [tierMetricQuotas.tierId, tierMetricQuotas.metricId],
        set: { quotaLimit },
      })
      .returning();
    await recordAudit(tx, {
      action: "quota.set",
      targetType: "quota",
      targetId: `${tierId}/${metricId}`,
      before,
      after,
    });
  });
  return { tierId, metricId, metricSlug: metric.slug, quotaLimit } satisfies QuotaDto;
}

export async function listQuotas(db: Db, agentId: string, tierId: string): Promise<QuotaDto[]> {
  await findTier(db, agentId, tierId);
  return db
    .select({
      tierId: tierMetricQuotas.tierId,
      metricId: tierMetricQuotas.metricId,
      metricSlug: metricDefinitions.slug,
      quotaLimit: tierMetricQuotas.quotaLimit,
    })
    .from(tierMetricQuotas)
    .innerJoin(metricDefinitions, eq(metricDefinitions.id, tierMetricQuotas.metricId))
    .where(eq(tierMetricQuotas.tierId, tierId))
    .orderBy(asc(metricDefinitions.slug));
}
