import { and, eq, inArray, isNull, lte, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { pricingTiers, type SubscriptionStatus, subscriptions } from "../db/schema.ts";
import { emit } from "../events/emit.ts";
import { insertLive, lockSubscription } from "./store.ts";

const LIVE: SubscriptionStatus[] = ["active", "trialing"];

/**
 * Applies the plan changes that waited for the period end and whose moment
 * has come: a subscription cancelled at period end becomes `canceled`, and a
 * scheduled tier (a downgrade to a free tier) becomes the live subscription,
 * anchored at the old period's end.
 *
 * Lazy (no timers): every read of a user's subscriptions calls this first.
 * Safe on several instances: each transition runs in one transaction under
 * the (user, agent) lock, and the UPDATE re-checks the row's state, so exactly
 * one caller ends the old row and inserts the new one. Answers whether any
 * subscription of the user was due (so a caller that was refused may retry).
 */
export async function settlePeriodEnds(db: Db, userId: string, now = new Date()): Promise<boolean> {
  const dueNow = and(
    inArray(subscriptions.status, LIVE),
    eq(subscriptions.cancelAtPeriodEnd, true),
    lte(subscriptions.currentPeriodEnd, now),
  );
  const due = await db
    .select({ id: subscriptions.id, agentId: subscriptions.agentId })
    .from(subscriptions)
    .where(and(eq(subscriptions.userId, userId), dueNow));
  if (due.length === 0) return false;
  for (const row of due) {
    await db.transaction(async (tx) => {
      await lockSubscription(tx, userId, row.agentId);
      const [ended] = await tx
        .update(subscriptions)
        .set({ status: "canceled", canceledAt: sql`${subscriptions.currentPeriodEnd}`, updatedAt: now })
        .where(and(eq(subscriptions.id, row.id), dueNow))
        .returning();
      if (!ended) return;
      const [tier] = ended.scheduledTierId
        ? await tx
            .select()
            .from(pricingTiers)
            .where(and(eq(pricingTiers.id, ended.scheduledTierId), isNull(pricingTiers.archivedAt)))
            .limit(1)
        : [];
      // No scheduled tier (or it was withdrawn meanwhile): the subscription simply ends, as a cancel would.
      if (tier)
        await insertLive(
          tx,
          { userId, agentId: ended.agentId, tier, periodAnchor: ended.currentPeriodEnd ?? now },
          now,
        );
      const type = tier ? "subscription.updated" : "subscription.canceled";
      await emit(tx, { type, userId, agentId: ended.agentId });
    });
  }
  return true;
}
