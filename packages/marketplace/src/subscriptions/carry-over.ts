import { and, desc, eq, ne, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { subscriptions } from "../db/schema.ts";

/**
 * A new subscription of a user to an agent (an upgrade, or subscribing again)
 * inherits the usage counters of the previous one. Fixed metrics count
 * things that still exist in the agent (knowledge bases, seats), so their
 * count must not reset to zero; rolling counters carry their period start
 * and therefore restart with the new subscription's first period.
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
    INSERT INTO "usage_counters" ("subscriptionId", "metricId", "used", "periodStart")
    SELECT ${newSubscriptionId}, "metricId", "used", "periodStart" FROM "usage_counters" WHERE "subscriptionId" = ${previous.id}
    ON CONFLICT DO NOTHING`);
}
