import { and, eq, inArray } from "drizzle-orm";
import type { ClaimSource } from "../auth/claims.ts";
import type { Db } from "../db/database.ts";
import { pricingTiers, subscriptions } from "../db/schema.ts";
import { LIVE } from "./service.ts";

/** The identity provider's billing claims, read from real subscriptions. */
export function subscriptionClaims(db: Db): ClaimSource {
  return {
    async agentTiers(userId) {
      const rows = await db
        .select({ agentId: subscriptions.agentId, tierName: pricingTiers.tierName })
        .from(subscriptions)
        .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
        .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.status, LIVE)));
      return Object.fromEntries(rows.map((r) => [r.agentId, r.tierName]));
    },
    async installs(userId) {
      const rows = await db
        .selectDistinct({ agentId: subscriptions.agentId })
        .from(subscriptions)
        .where(and(eq(subscriptions.userId, userId), inArray(subscriptions.status, [...LIVE, "past_due"])));
      return rows.map((r) => r.agentId).sort();
    },
  };
}
