import { and, desc, eq, ne, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { subscriptions } from "../db/schema.ts";

/**
 * A new subscription of a user to an agent (an upgrade, or subscribing again)
 * inherits the usage counters of the previous one. Fixed metrics count
 * things that still exist in the agent (knowledge bases, seats), so their
 * count must not reset to zero. Rolling counters carry their own period
 * (start and end): what was counted keeps counting until that period ends,
 * so cancelling and subscribing again, or changing plan, never hands out a
 * fresh quota (usage_position in migrations/0006_usage_carry_over.sql).
 */
export async function carryOverUsage(tx: Db, userId: string, agentId: string, newSubscriptionId: string) {
  const [previous] = await tx
    .select({ id: subscriptions.id })
    .from(subscriptions)
    .where(
      and(
        eq(subscriptions.userId, userId),
        eq(subscriptions.agentId, agentId),
        ne(subscriptions.id, newSubscriptionId),
      ),
    )
    .orderBy(desc(subscriptions.createdAt))
    .limit(1);
  if (!previous) return;
  await tx.execute(sql`
    INSERT INTO "usage_counters" ("subscriptionId", "metricId", "used", "periodStart", "periodEnd")
    SELECT ${newSubscriptionId}, "metricId", "used", "periodStart", "periodEnd" FROM "usage_counters" WHERE "subscriptionId" = ${previous.id}
    ON CONFLICT DO NOTHING`);
}
