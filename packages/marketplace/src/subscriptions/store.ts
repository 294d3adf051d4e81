import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { type pricingTiers, type SubscriptionStatus, subscriptions } from "../db/schema.ts";
import { carryOverUsage } from "./carry-over.ts";

type TierRow = typeof pricingTiers.$inferSelect;
export type SubscriptionRow = typeof subscriptions.$inferSelect;

/**
 * One plan change per (user, agent) at a time, on every instance: a transaction
 * lock, so two racing changes (checkouts, a cancel, a period-end transition)
 * take turns and each re-reads what the other wrote.
 */
export async function lockSubscription(tx: Db, userId: string, agentId: string): Promise<void> {
  await tx.execute(
    sql`SELECT pg_advisory_xact_lock(hashtextextended(${`subscription:${userId}:${agentId}`}, 0))`,
  );
}

/** What a new live subscription is made of (checkout, Stripe, an admin grant). */
export interface NewLiveSubscription {
  userId: string;
  agentId: string;
  tier: TierRow;
  stripeCustomerId?: string | null;
  stripeSubscriptionId?: string | null;
  status?: SubscriptionStatus;
  currentPeriodEnd?: Date | null;
  periodAnchor?: Date;
  stripeStateAt?: Date | null;
}

/** Inserts the new live subscription (the caller holds the lock and ended the previous one) and carries usage over. */
export async function insertLive(
  tx: Db,
  input: NewLiveSubscription,
  now = new Date(),
): Promise<SubscriptionRow> {
  const trialing = input.tier.trialDays > 0 && !input.stripeSubscriptionId;
  const [row] = await tx
    .insert(subscriptions)
    .values({
      id: randomUUID(),
      userId: input.userId,
      agentId: input.agentId,
      tierId: input.tier.id,
      status: input.status ?? (trialing ? "trialing" : "active"),
      stripeCustomerId: input.stripeCustomerId ?? null,
      stripeSubscriptionId: input.stripeSubscriptionId ?? null,
      periodAnchor: input.periodAnchor ?? now,
      currentPeriodEnd: input.currentPeriodEnd ?? null,
      trialEndsAt: trialing ? new Date(now.getTime() + input.tier.trialDays * 86_400_000) : null,
      stripeStateAt: input.stripeStateAt ?? null,
      createdAt: now,
      updatedAt: now,
    })
    .returning();
  await carryOverUsage(tx, input.userId, input.agentId, row!.id);
  return row!;
}
