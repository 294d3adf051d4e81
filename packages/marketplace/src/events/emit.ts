import { randomUUID } from "node:crypto";
import { type AgentEventType, periodContaining } from "@amp/contract";
import { and, desc, eq, gt, isNull, or, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import {
  agents,
  metricDefinitions,
  pricingTiers,
  subscriptionAddons,
  subscriptions,
  webhookDeliveries,
  webhookEndpoints,
  webhookEvents,
  webhookSequences,
} from "../db/schema.ts";

/** The channel the relay listens on: a commit that wrote outbox rows wakes it at once. */
export const OUTBOX_CHANNEL = "webhook_outbox";

export type EmitInput =
  | { type: Exclude<AgentEventType, "agent.status_changed">; agentId: string; userId: string }
  | { type: "agent.status_changed"; agentId: string };

/**
 * Writes an event to the outbox, in the caller's transaction: the event row
 * (with the next per-(user, agent) sequence number, taken under the row lock
 * of the counter) and one pending delivery per enabled endpoint of the agent.
 * The snapshot is read inside the same transaction, so it is the state the
 * change committed. Nothing is sent here; the relay (delivery.ts) hands the
 * deliveries to pg-boss after the commit. An agent with no endpoints costs
 * one indexed read.
 *
 * This is the one hook the services call: `await emit(tx, { type, agentId, userId })`.
 */
export async function emit(tx: Db, input: EmitInput): Promise<string | null> {
  const endpoints = await tx
    .select({ id: webhookEndpoints.id })
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.agentId, input.agentId), isNull(webhookEndpoints.disabledAt)));
  if (endpoints.length === 0) return null;

  const userId = "userId" in input ? input.userId : null;
  const [{ last } = { last: 0 }] = await tx
    .insert(webhookSequences)
    .values({ agentId: input.agentId, userId: userId ?? "", last: 1 })
    .onConflictDoUpdate({
      target: [webhookSequences.agentId, webhookSequences.userId],
      set: { last: sql`${webhookSequences.last} + 1` },
    })
    .returning({ last: webhookSequences.last });

  const id = `evt_${randomUUID().replaceAll("-", "")}`;
  const createdAt = new Date();
  const data = userId
    ? await userSnapshot(tx, userId, input.agentId)
    : await agentSnapshot(tx, input.agentId);
  const payload = {
    id,
    type: input.type,
    timestamp: createdAt.toISOString(),
    data: {
      agentId: input.agentId,
      // The ID token's subject: the marketplace issues public subjects, the user's id (auth/userinfo.ts).
      sub: userId,
      sequence: last,
      ...data,
    },
  };
  await tx.insert(webhookEvents).values({
    id,
    agentId: input.agentId,
    userId,
    type: input.type,
    sequence: last,
    payload,
    createdAt,
  });
  await tx.insert(webhookDeliveries).values(
    endpoints.map((endpoint) => ({
      id: `dlv_${randomUUID().replaceAll("-", "")}`,
      eventId: id,
      endpointId: endpoint.id,
      status: "pending" as const,
      createdAt,
    })),
  );
  await tx.execute(sql`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`);
  return id;
}

/** The user's subscription to the agent as it stands (the live one, else the latest) and the effective addons. */
async function userSnapshot(tx: Db, userId: string, agentId: string) {
  const [row] = await tx
    .select({ s: subscriptions, t: pricingTiers })
    .from(subscriptions)
    .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
    .where(and(eq(subscriptions.userId, userId), eq(subscriptions.agentId, agentId)))
    // Live subscriptions first: an upgrade leaves the replaced row canceled and the new one active.
    .orderBy(
      sql`CASE WHEN ${subscriptions.status} IN ('active', 'trialing', 'past_due') THEN 0 ELSE 1 END`,
      desc(subscriptions.updatedAt),
    )
    .limit(1);
  if (!row) return { subscription: null, addons: [] };
  const { s, t } = row;
  const now = new Date();
  const periodEnd =
    s.currentPeriodEnd ??
    (s.stripeSubscriptionId ? null : periodContaining(s.periodAnchor, t.billingInterval, now).end);
  const addons = await tx
    .select({
      id: subscriptionAddons.id,
      metricSlug: metricDefinitions.slug,
      amount: subscriptionAddons.amount,
      scope: subscriptionAddons.scope,
      expiresAt: subscriptionAddons.expiresAt,
    })
    .from(subscriptionAddons)
    .innerJoin(metricDefinitions, eq(metricDefinitions.id, subscriptionAddons.metricId))
    .where(
      and(
        eq(subscriptionAddons.subscriptionId, s.id),
        isNull(subscriptionAddons.revokedAt),
        or(isNull(subscriptionAddons.expiresAt), gt(subscriptionAddons.expiresAt, now)),
      ),
    );
  return {
    subscription: {
      id: s.id,
      status: s.status,
      tier: { id: t.id, name: t.tierName, isFree: t.isFree },
      currentPeriodEnd: periodEnd?.toISOString() ?? null,
      cancelAtPeriodEnd: s.cancelAtPeriodEnd,
      canceledAt: s.canceledAt?.toISOString() ?? null,
      trialEndsAt: s.trialEndsAt?.toISOString() ?? null,
    },
    addons: addons.map((a) => ({ ...a, expiresAt: a.expiresAt?.toISOString() ?? null })),
  };
}

async function agentSnapshot(tx: Db, agentId: string) {
  const [agent] = await tx
    .select({ status: agents.status, slug: agents.slug })
    .from(agents)
    .where(eq(agents.id, agentId));
  return { agent: agent ?? null };
}
