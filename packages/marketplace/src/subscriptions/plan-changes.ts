import { type ChangePlanResult, periodContaining, type SubscriptionDto } from "@amp/contract";
import { eq } from "drizzle-orm";
import { findAgent } from "../catalog/service.ts";
import type { Db } from "../db/database.ts";
import { subscriptions } from "../db/schema.ts";
import { emit } from "../events/emit.ts";
import { ApiError } from "../http/api-error.ts";
import { type Payments, requireStripe } from "../payments/payments.ts";
import { findTier } from "../pricing/service.ts";
import { settlePeriodEnds } from "./period-end.ts";
import { assertReturnUrl, type CheckoutDeps, checkout, findLive, toSubscriptionDto } from "./service.ts";
import { lockSubscription } from "./store.ts";

/**
 * The subscriber's plan changes (issue 12). Each is one service function that
 * makes its database change in one transaction under the (user, agent) lock,
 * after any call to Stripe, and writes its agent event to the outbox in that transaction.
 *
 * - cancel: a paid plan ends at the period end (access until then, resumable);
 *   a free plan has nothing paid to run out and ends at once.
 * - resume: undoes a pending cancel or scheduled downgrade.
 * - change plan: upgrades act now (free) or through checkout (paid); a move
 *   from a paid tier to a free one is scheduled for the period end.
 */

type Live = NonNullable<Awaited<ReturnType<typeof findLive>>>;

async function liveOrNotFound(db: Db, userId: string, agentId: string): Promise<Live> {
  await settlePeriodEnds(db, userId);
  const live = await findLive(db, userId, agentId);
  if (!live) throw new ApiError("NOT_FOUND", "No active or trialing subscription to this agent.");
  return live;
}

/** The end of the paid-for period: Stripe's, or the local period containing now. */
function periodEndOf(live: Live, now: Date): Date {
  return live.s.currentPeriodEnd ?? periodContaining(live.s.periodAnchor, live.t.billingInterval, now).end;
}

/**
 * Writes `patch` to the live row under the lock, but only if that row is still
 * the live one: a plan change that raced ahead wins, and this one is a 409.
 */
async function updateLive(
  db: Db,
  live: Live,
  patch: (now: Date) => Partial<typeof subscriptions.$inferInsert>,
): Promise<SubscriptionDto> {
  return db.transaction(async (tx) => {
    await lockSubscription(tx, live.s.userId, live.s.agentId);
    const current = await findLive(tx, live.s.userId, live.s.agentId);
    if (current?.s.id !== live.s.id)
      throw new ApiError("CONFLICT", "The subscription changed meanwhile; reload and try again.");
    const now = new Date();
    const [row] = await tx
      .update(subscriptions)
      .set({ ...patch(now), updatedAt: now })
      .where(eq(subscriptions.id, live.s.id))
      .returning();
    const type = row!.status === "canceled" ? "subscription.canceled" : "subscription.updated";
    await emit(tx, { type, userId: live.s.userId, agentId: live.s.agentId });
    return toSubscriptionDto(row!, live.t, now);
  });
}

/** `POST /me/subscriptions/:agentId/cancel`. */
export async function cancelSubscription(
  db: Db,
  payments: Payments | null,
  userId: string,
  agentId: string,
): Promise<SubscriptionDto> {
  const live = await liveOrNotFound(db, userId, agentId);
  if (live.t.isFree && !live.s.stripeSubscriptionId)
    return updateLive(db, live, (now) => ({ status: "canceled", canceledAt: now, scheduledTierId: null }));
  if (live.s.stripeSubscriptionId)
    await requireStripe(payments, "Cancelling a Stripe subscription").cancelAtPeriodEnd(
      live.s.stripeSubscriptionId,
    );
  return updateLive(db, live, (now) => ({
    cancelAtPeriodEnd: true,
    scheduledTierId: null,
    currentPeriodEnd: periodEndOf(live, now),
  }));
}

/** `POST /me/subscriptions/:agentId/resume`: keep the current plan after all. */
export async function resumeSubscription(
  db: Db,
  payments: Payments | null,
  userId: string,
  agentId: string,
): Promise<SubscriptionDto> {
  const live = await liveOrNotFound(db, userId, agentId);
  if (!live.s.cancelAtPeriodEnd && !live.s.scheduledTierId)
    throw new ApiError("CONFLICT", "This subscription has no pending cancellation or plan change.");
  if (live.s.stripeSubscriptionId)
    await requireStripe(payments, "Resuming a Stripe subscription").resumeSubscription(
      live.s.stripeSubscriptionId,
    );
  return updateLive(db, live, () => ({
    cancelAtPeriodEnd: false,
    scheduledTierId: null,
    // A local period rolls on from its anchor again; Stripe's end stays Stripe's.
    ...(live.s.stripeSubscriptionId ? {} : { currentPeriodEnd: null }),
  }));
}

/** `POST /me/subscriptions/:agentId/plan { tierId, returnUrl }`. */
export async function changePlan(
  db: Db,
  deps: CheckoutDeps,
  user: { id: string; email: string },
  agentId: string,
  input: { tierId: string; returnUrl: string },
): Promise<ChangePlanResult> {
  await settlePeriodEnds(db, user.id);
  const live = await findLive(db, user.id, agentId);
  const tier = await findTier(db, agentId, input.tierId);
  if (!live || tier.isFree === live.t.isFree || !tier.isFree)
    return checkout(db, deps, user, agentId, input.tierId, input.returnUrl);

  // Paid → free: the paid period runs out first; then the free tier takes over (period-end.ts).
  const agent = await findAgent(db, agentId);
  assertReturnUrl(agent, input.returnUrl, !deps.production, new URL(deps.baseUrl).origin, deps.uiOrigin);
  if (live.s.stripeSubscriptionId)
    await requireStripe(deps.payments, "Changing a Stripe subscription").cancelAtPeriodEnd(
      live.s.stripeSubscriptionId,
    );
  const updated = await updateLive(db, live, (now) => ({
    cancelAtPeriodEnd: true,
    scheduledTierId: tier.id,
    currentPeriodEnd: periodEndOf(live, now),
  }));
  return {
    status: "scheduled",
    subscriptionId: updated.id,
    effectiveAt: updated.currentPeriodEnd!,
    returnUrl: input.returnUrl,
  };
}
