import { randomUUID } from "node:crypto";
import {
  type AddonDto,
  type CheckoutResult,
  periodContaining,
  type SubscriptionDto,
  SubscriptionDtoSchema,
} from "@amp/contract";
import { and, desc, eq, inArray, isNull, lt, sql } from "drizzle-orm";
import { recordAudit } from "../audit/log.ts";
import { findAgent } from "../catalog/service.ts";
import type { Db } from "../db/database.ts";
import {
  type agents,
  pricingTiers,
  type SubscriptionStatus,
  subscriptionAddons,
  subscriptions,
} from "../db/schema.ts";
import { emit } from "../events/emit.ts";
import { ApiError } from "../http/api-error.ts";
import type { Payments } from "../payments/payments.ts";
import { findMetricBySlug, findTier, toTierDto } from "../pricing/service.ts";
import type { DevCheckout } from "./dev-checkout.ts";
import { settlePeriodEnds } from "./period-end.ts";
import { insertLive, lockSubscription, type NewLiveSubscription, type SubscriptionRow } from "./store.ts";

type TierRow = typeof pricingTiers.$inferSelect;
type AgentRow = typeof agents.$inferSelect;

/** Only these grant access (CONTRACT.md §6). */
export const LIVE: SubscriptionStatus[] = ["active", "trialing"];

export function toSubscriptionDto(row: SubscriptionRow, tier: TierRow, now = new Date()): SubscriptionDto {
  const periodEnd =
    row.currentPeriodEnd ??
    (row.stripeSubscriptionId ? null : periodContaining(row.periodAnchor, tier.billingInterval, now).end);
  return SubscriptionDtoSchema.parse({
    ...row,
    currentPeriodEnd: periodEnd?.toISOString() ?? null,
    canceledAt: row.canceledAt?.toISOString() ?? null,
    tier: toTierDto(tier),
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });
}

/** A trial that ran out without Stripe behind it simply becomes active (development checkout). */
async function settleLocalTrials(db: Db, userId: string) {
  await db
    .update(subscriptions)
    .set({ status: "active", updatedAt: new Date() })
    .where(
      and(
        eq(subscriptions.userId, userId),
        eq(subscriptions.status, "trialing"),
        isNull(subscriptions.stripeSubscriptionId),
        lt(subscriptions.trialEndsAt, new Date()),
      ),
    );
}

export async function listSubscriptions(db: Db, userId: string): Promise<SubscriptionDto[]> {
  await settleLocalTrials(db, userId);
  await settlePeriodEnds(db, userId);
  const rows = await db
    .select({ s: subscriptions, t: pricingTiers })
    .from(subscriptions)
    .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
    .where(eq(subscriptions.userId, userId))
    .orderBy(desc(subscriptions.createdAt));
  return rows.map(({ s, t }) => toSubscriptionDto(s, t));
}

export async function findLive(db: Db, userId: string, agentId: string) {
  const [row] = await db
    .select({ s: subscriptions, t: pricingTiers })
    .from(subscriptions)
    .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
    .where(
      and(
        eq(subscriptions.userId, userId),
        eq(subscriptions.agentId, agentId),
        inArray(subscriptions.status, LIVE),
      ),
    )
    .limit(1);
  return row ?? null;
}

/** `GET /me/subscriptions/:agentId`: the live subscription, or 404 (the agent then answers 402). */
export async function getLiveSubscription(db: Db, userId: string, agentId: string): Promise<SubscriptionDto> {
  await settleLocalTrials(db, userId);
  await settlePeriodEnds(db, userId);
  const live = await findLive(db, userId, agentId);
  if (!live) throw new ApiError("NOT_FOUND", "No active or trialing subscription to this agent.");
  return toSubscriptionDto(live.s, live.t);
}

/**
 * Makes `tier` the user's live subscription to `agent`, replacing a live one
 * (an upgrade) in the same transaction so the partial unique index never sees two.
 */
export async function activate(
  db: Db,
  input: NewLiveSubscription & {
    /** Checked against the live subscription under the (user, agent) lock; throws to refuse the switch. */
    assertCanSwitch?: (live: Awaited<ReturnType<typeof findLive>>) => void;
  },
): Promise<SubscriptionRow> {
  const now = new Date();
  return db.transaction(async (tx) => {
    // Two racing checkouts must not both pass the "already subscribed?" check and the second silently
    // replace the first: the (user, agent) lock makes them take turns.
    await lockSubscription(tx, input.userId, input.agentId);
    input.assertCanSwitch?.(await findLive(tx, input.userId, input.agentId));
    const replaced = await tx
      .update(subscriptions)
      .set({ status: "canceled", canceledAt: now, updatedAt: now })
      .where(
        and(
          eq(subscriptions.userId, input.userId),
          eq(subscriptions.agentId, input.agentId),
          inArray(subscriptions.status, LIVE),
        ),
      )
      .returning({ id: subscriptions.id });
    const row = await insertLive(tx, input, now);
    const type = replaced.length ? "subscription.updated" : "subscription.created";
    await emit(tx, { type, userId: input.userId, agentId: input.agentId });
    return row;
  });
}

/** Where a checkout may send the browser back to (CONTRACT.md §6). */
export function allowedReturnOrigins(agent: AgentRow): string[] {
  const origins = new Set(agent.redirectUris.map((uri) => new URL(uri).origin));
  if (agent.productDomain) origins.add(new URL(agent.productDomain).origin);
  return [...origins];
}

export function assertReturnUrl(
  agent: AgentRow,
  returnUrl: string,
  allowLocalhost: boolean,
  ownOrigin: string,
  uiOrigin?: string,
) {
  const url = new URL(returnUrl);
  const allowed = [...allowedReturnOrigins(agent), ownOrigin, ...(uiOrigin ? [uiOrigin] : [])];
  const local = allowLocalhost && ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname);
  if (!allowed.includes(url.origin) && !local) {
    throw new ApiError("UNPROCESSABLE_ENTITY", "returnUrl is not one of this agent's origins.", {
      reason: "INVALID_RETURN_URL",
      allowedOrigins: allowLocalhost ? [...allowed, "http://localhost"] : allowed,
    });
  }
}

export interface CheckoutDeps {
  payments: Payments | null;
  devCheckout: DevCheckout | null;
  production: boolean;
  /** The marketplace's own pages (the account page) are always a valid return target. */
  baseUrl: string;
  /** The web app's origin when it is served cross-origin (MARKETPLACE_UI_ORIGIN): also a valid target. */
  uiOrigin?: string;
}

/**
 * `POST /agents/:agentId/pricing/:tierId/checkout`: a free tier is active at
 * once; a paid one goes to Stripe Checkout, or to the development checkout
 * when Stripe is not configured outside production.
 */
export async function checkout(
  db: Db,
  deps: CheckoutDeps,
  user: { id: string; email: string },
  agentId: string,
  tierId: string,
  returnUrl: string,
): Promise<CheckoutResult> {
  const agent = await findAgent(db, agentId);
  if (agent.status === "inactive") throw new ApiError("NOT_FOUND", "No such agent.");
  const tier = await findTier(db, agentId, tierId);
  assertReturnUrl(agent, returnUrl, !deps.production, new URL(deps.baseUrl).origin, deps.uiOrigin);

  const assertCanSwitch = (live: Awaited<ReturnType<typeof findLive>>) => {
    if (live?.t.id === tier.id) throw new ApiError("CONFLICT", "You are already subscribed to this tier.");
    if (live && !live.t.isFree && tier.isFree) {
      throw new ApiError(
        "CONFLICT",
        "A move from a paid tier to a free one takes effect at the period end: POST /me/subscriptions/{agentId}/plan schedules it.",
      );
    }
  };
  assertCanSwitch(await findLive(db, user.id, agentId));

  if (tier.isFree) {
    const row = await activate(db, { userId: user.id, agentId, tier, assertCanSwitch });
    return { status: "active", subscriptionId: row.id, returnUrl };
  }
  if (deps.payments && tier.stripePriceId) {
    const url = await deps.payments.createCheckoutSession({
      priceId: tier.stripePriceId,
      recurring: tier.billingInterval !== "one_time",
      trialDays: tier.trialDays,
      customerEmail: user.email,
      metadata: { userId: user.id, agentId, tierId },
      successUrl: returnUrl,
      cancelUrl: returnUrl,
    });
    return { status: "redirect", url };
  }
  if (deps.devCheckout)
    return {
      status: "redirect",
      url: deps.devCheckout.urlFor({ userId: user.id, agentId, tierId, returnUrl }),
    };
  throw new ApiError("SERVICE_UNAVAILABLE", "Paid checkout needs Stripe, and it is not configured.");
}

// ── Addons ───────────────────────────────────────────────────────────────

export async function grantAddon(
  db: Db,
  subscriptionId: string,
  input: { metricSlug: string; amount: number; scope: "one_cycle" | "permanent" },
  grantedBy: string,
): Promise<AddonDto> {
  const [found] = await db
    .select({ s: subscriptions, t: pricingTiers })
    .from(subscriptions)
    .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
    .where(eq(subscriptions.id, subscriptionId))
    .limit(1);
  if (!found) throw new ApiError("NOT_FOUND", "No such subscription.");
  const metric = await findMetricBySlug(db, found.s.agentId, input.metricSlug);
  const expiresAt =
    input.scope === "one_cycle"
      ? periodContaining(found.s.periodAnchor, found.t.billingInterval, new Date()).end
      : null;
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(subscriptionAddons)
      .values({
        id: randomUUID(),
        subscriptionId,
        metricId: metric.id,
        amount: input.amount,
        scope: input.scope,
        expiresAt,
        grantedBy,
      })
      .returning();
    await recordAudit(tx, { action: "addon.grant", targetType: "addon", targetId: row!.id, after: row });
    await emit(tx, { type: "entitlements.updated", userId: found.s.userId, agentId: found.s.agentId });
    return toAddonDto(row!, metric.slug);
  });
}

export async function revokeAddon(db: Db, addonId: string): Promise<void> {
  await db.transaction(async (tx) => {
    const [before] = await tx
      .select()
      .from(subscriptionAddons)
      .where(eq(subscriptionAddons.id, addonId))
      .for("update");
    if (!before) throw new ApiError("NOT_FOUND", "No such addon.");
    const [row] = await tx
      .update(subscriptionAddons)
      .set({ revokedAt: sql`coalesce(${subscriptionAddons.revokedAt}, now())` })
      .where(eq(subscriptionAddons.id, addonId))
      .returning();
    // Revoking twice changes nothing and records nothing.
    if (before.revokedAt === null) {
      const [owner] = await tx
        .select({ userId: subscriptions.userId, agentId: subscriptions.agentId })
        .from(subscriptions)
        .where(eq(subscriptions.id, before.subscriptionId));
      if (owner) await emit(tx, { type: "entitlements.updated", ...owner });
      await recordAudit(tx, {
        action: "addon.revoke",
        targetType: "addon",
        targetId: addonId,
        before,
        after: row,
      });
    }
  });
}

const toAddonDto = (row: typeof subscriptionAddons.$inferSelect, metricSlug: string): AddonDto => ({
  id: row.id,
  subscriptionId: row.subscriptionId,
  metricSlug,
  amount: row.amount,
  scope: row.scope,
  expiresAt: row.expiresAt?.toISOString() ?? null,
  revokedAt: row.revokedAt?.toISOString() ?? null,
  createdAt: row.createdAt.toISOString(),
});
