import { randomUUID } from "node:crypto";
import type { KeyedLocks } from "@amp/db";
import { and, eq, inArray, ne, sql } from "drizzle-orm";
import type { Logger } from "pino";
import type Stripe from "stripe";
import type { Db } from "../db/database.ts";
import {
  interactions,
  pricingTiers,
  type SubscriptionStatus,
  stripeEvents,
  subscriptions,
} from "../db/schema.ts";
import { emit } from "../events/emit.ts";
import type { MarketplaceMetrics } from "../metrics/registry.ts";
import type { WebhookVerifier } from "../payments/payments.ts";
import { carryOverUsage } from "../subscriptions/carry-over.ts";
import { LIVE } from "../subscriptions/service.ts";

export class InvalidSignatureError extends Error {}

const HANDLED = new Set([
  "checkout.session.completed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.payment_succeeded",
  "invoice.payment_failed",
]);

/**
 * Stripe webhooks (CONTRACT.md §6). Every verified event is stored in
 * `stripe_events` before it is processed, so a failure can be replayed
 * (`marketplace stripe:replay`). Processing is idempotent (a processed event
 * id is skipped) and ordered by Stripe's event time: an older event never
 * moves a subscription back.
 */
export class StripeWebhooks {
  constructor(
    private readonly db: Db,
    private readonly verifier: WebhookVerifier | null,
    private readonly logger: Logger,
    /** Counts deliveries by type and outcome; the CLI's replay runs without one. */
    private readonly metrics?: Pick<MarketplaceMetrics, "webhookEvents">,
  ) {}

  get configured() {
    return this.verifier !== null;
  }

  /** Verifies, stores and processes one delivery. Throws InvalidSignatureError (nothing stored) on a bad signature. */
  async receive(
    rawBody: string,
    signature: string | undefined,
  ): Promise<{ duplicate: boolean; processed: boolean }> {
    if (!this.verifier) throw new Error("Stripe webhooks are not configured");
    let event: Stripe.Event;
    try {
      event = await this.verifier.verify(rawBody, signature ?? "");
    } catch (error) {
      this.count("unknown", "invalid_signature");
      throw new InvalidSignatureError((error as Error).message);
    }
    const inserted = await this.db
      .insert(stripeEvents)
      .values({
        id: event.id,
        type: event.type,
        eventCreatedAt: new Date(event.created * 1000),
        payload: event as unknown as Record<string, unknown>,
        status: "received",
      })
      .onConflictDoNothing()
      .returning({ id: stripeEvents.id });
    if (inserted.length === 0) {
      const [stored] = await this.db.select().from(stripeEvents).where(eq(stripeEvents.id, event.id));
      if (stored?.status === "processed") {
        this.count(event.type, "duplicate");
        return { duplicate: true, processed: true };
      }
    }
    const processed = await this.process(event);
    this.count(event.type, processed ? "processed" : "failed");
    return { duplicate: inserted.length === 0, processed };
  }

  /** Event types come only from verified events, so the label stays within Stripe's own list. */
  private count(type: string, outcome: "processed" | "failed" | "duplicate" | "invalid_signature") {
    this.metrics?.webhookEvents.inc({ type, outcome });
  }

  /** Re-processes every event stored as `error` (or stuck in `received`), oldest first. */
  async replayFailed(): Promise<{ processed: number; failed: number }> {
    const pending = await this.db
      .select()
      .from(stripeEvents)
      .where(ne(stripeEvents.status, "processed"))
      .orderBy(stripeEvents.eventCreatedAt);
    let processed = 0;
    for (const row of pending) if (await this.process(row.payload as Stripe.Event)) processed++;
    return { processed, failed: pending.length - processed };
  }

  /**
   * Re-processes one stored event (the console's replay button). An event
   * already processed is left alone (re-running an invoice event would record
   * its interaction twice); a named lock serialises replays of one event
   * across instances, so two clicks process it once.
   */
  async replay(
    eventId: string,
    locks: KeyedLocks,
  ): Promise<{ replayed: boolean; event: typeof stripeEvents.$inferSelect } | null> {
    return locks.hold(async (lock) => {
      await lock(`stripe-event:${eventId}`);
      const [stored] = await this.db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId));
      if (!stored) return null;
      if (stored.status === "processed") return { replayed: false, event: stored };
      const processed = await this.process(stored.payload as Stripe.Event);
      this.count(stored.type, processed ? "processed" : "failed");
      const [after] = await this.db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId));
      return { replayed: true, event: after! };
    });
  }

  private async process(event: Stripe.Event): Promise<boolean> {
    try {
      if (HANDLED.has(event.type)) await this.apply(event);
      await this.db
        .update(stripeEvents)
        .set({
          status: "processed",
          error: null,
          processedAt: new Date(),
          attempts: sql`${stripeEvents.attempts} + 1`,
        })
        .where(eq(stripeEvents.id, event.id));
      return true;
    } catch (error) {
      this.logger.error({ eventId: event.id, type: event.type, err: error }, "stripe event failed");
      await this.db
        .update(stripeEvents)
        .set({
          status: "error",
          error: (error as Error).message,
          attempts: sql`${stripeEvents.attempts} + 1`,
        })
        .where(eq(stripeEvents.id, event.id));
      return false;
    }
  }

  private async apply(event: Stripe.Event) {
    const at = new Date(event.created * 1000);
    switch (event.type) {
      case "checkout.session.completed":
        return this.checkoutCompleted(event.data.object, at);
      case "customer.subscription.created":
      case "customer.subscription.updated":
        return this.subscriptionChanged(event.data.object, at);
      case "customer.subscription.deleted":
        return this.subscriptionDeleted(event.data.object, at);
      case "invoice.payment_succeeded":
        return this.invoice(event.data.object, at, "invoice_paid");
      case "invoice.payment_failed":
        return this.invoice(event.data.object, at, "invoice_payment_failed");
    }
  }

  private async checkoutCompleted(session: Stripe.Checkout.Session, at: Date) {
    const { userId, agentId, tierId } = (session.metadata ?? {}) as Record<string, string | undefined>;
    if (!userId || !agentId || !tierId)
      throw new Error(`checkout session ${session.id} has no marketplace metadata`);
    const stripeSubscriptionId = idOf(session.subscription);
    const [tier] = await this.db.select().from(pricingTiers).where(eq(pricingTiers.id, tierId));
    if (!tier) throw new Error(`checkout session ${session.id} names unknown tier ${tierId}`);
    await this.upsert({
      stripeSubscriptionId,
      userId,
      agentId,
      tierId,
      status: tier.trialDays > 0 && stripeSubscriptionId ? "trialing" : "active",
      stripeCustomerId: idOf(session.customer),
      at,
      // The subscription events carry the authoritative state; a session only creates the row.
      onlyCreate: true,
    });
  }

  private async subscriptionChanged(sub: Stripe.Subscription, at: Date) {
    const item = sub.items?.data?.[0];
    const priceId = item?.price?.id;
    const [tier] = priceId
      ? await this.db.select().from(pricingTiers).where(eq(pricingTiers.stripePriceId, priceId))
      : [];
    const periodEnd =
      (item as { current_period_end?: number } | undefined)?.current_period_end ??
      (sub as unknown as { current_period_end?: number }).current_period_end;
    await this.upsert({
      stripeSubscriptionId: sub.id,
      userId: sub.metadata?.userId,
      agentId: sub.metadata?.agentId,
      tierId: tier?.id ?? sub.metadata?.tierId,
      status: sub.status as SubscriptionStatus,
      stripeCustomerId: idOf(sub.customer),
      currentPeriodEnd: periodEnd ? new Date(periodEnd * 1000) : null,
      periodAnchor: sub.billing_cycle_anchor ? new Date(sub.billing_cycle_anchor * 1000) : undefined,
      cancelAtPeriodEnd: sub.cancel_at_period_end,
      canceledAt: sub.canceled_at ? new Date(sub.canceled_at * 1000) : null,
      at,
    });
  }

  private async subscriptionDeleted(sub: Stripe.Subscription, at: Date) {
    await this.db.transaction(async (tx) => {
      const rows = await tx
        .update(subscriptions)
        .set({
          status: "canceled",
          canceledAt: sub.canceled_at ? new Date(sub.canceled_at * 1000) : at,
          stripeStateAt: at,
          updatedAt: new Date(),
        })
        .where(eq(subscriptions.stripeSubscriptionId, sub.id))
        .returning({ userId: subscriptions.userId, agentId: subscriptions.agentId });
      for (const row of rows) await emit(tx, { type: "subscription.canceled", ...row });
    });
  }

  private async invoice(invoice: Stripe.Invoice, at: Date, type: "invoice_paid" | "invoice_payment_failed") {
    const legacy = invoice as unknown as { subscription?: string | { id: string } | null };
    const stripeSubscriptionId =
      idOf(invoice.parent?.subscription_details?.subscription ?? null) ?? idOf(legacy.subscription ?? null);
    if (!stripeSubscriptionId) return;
    const [row] = await this.db
      .select()
      .from(subscriptions)
      .where(eq(subscriptions.stripeSubscriptionId, stripeSubscriptionId));
    if (!row) return;
    await this.db
      .insert(interactions)
      .values({ userId: row.userId, type, metadata: { invoiceId: invoice.id, subscriptionId: row.id } });
    if (
      type === "invoice_payment_failed" &&
      (!row.stripeStateAt || row.stripeStateAt <= at) &&
      row.status !== "canceled"
    ) {
      await this.db.transaction(async (tx) => {
        await tx
          .update(subscriptions)
          .set({ status: "past_due", stripeStateAt: at, updatedAt: new Date() })
          .where(eq(subscriptions.id, row.id));
        await emit(tx, { type: "subscription.updated", userId: row.userId, agentId: row.agentId });
      });
    }
  }

  /**
   * Applies Stripe's view of one subscription unless a newer state was
   * already applied. A subscription becoming live replaces the user's other
   * live subscription to the agent (an upgrade), in the same transaction.
   */
  private async upsert(input: {
    stripeSubscriptionId: string | null;
    userId: string | undefined;
    agentId: string | undefined;
    tierId: string | undefined;
    status: SubscriptionStatus;
    stripeCustomerId: string | null;
    currentPeriodEnd?: Date | null;
    periodAnchor?: Date;
    cancelAtPeriodEnd?: boolean;
    canceledAt?: Date | null;
    at: Date;
    onlyCreate?: boolean;
  }) {
    await this.db.transaction(async (tx) => {
      const [existing] = input.stripeSubscriptionId
        ? await tx
            .select()
            .from(subscriptions)
            .where(eq(subscriptions.stripeSubscriptionId, input.stripeSubscriptionId))
            .for("update")
        : [];
      if (existing && (input.onlyCreate || (existing.stripeStateAt && existing.stripeStateAt > input.at)))
        return;
      const userId = existing?.userId ?? input.userId;
      const agentId = existing?.agentId ?? input.agentId;
      const tierId = input.tierId ?? existing?.tierId;
      if (!userId || !agentId || !tierId)
        throw new Error(`subscription ${input.stripeSubscriptionId} has no marketplace metadata`);

      const now = new Date();
      if (LIVE.includes(input.status)) {
        await tx
          .update(subscriptions)
          .set({ status: "canceled", canceledAt: now, updatedAt: now })
          .where(
            and(
              eq(subscriptions.userId, userId),
              eq(subscriptions.agentId, agentId),
              inArray(subscriptions.status, LIVE),
              existing ? ne(subscriptions.id, existing.id) : undefined,
            ),
          );
      }
      const state = {
        tierId,
        status: input.status,
        stripeCustomerId: input.stripeCustomerId ?? existing?.stripeCustomerId ?? null,
        ...(input.currentPeriodEnd !== undefined ? { currentPeriodEnd: input.currentPeriodEnd } : {}),
        ...(input.periodAnchor ? { periodAnchor: input.periodAnchor } : {}),
        ...(input.cancelAtPeriodEnd !== undefined ? { cancelAtPeriodEnd: input.cancelAtPeriodEnd } : {}),
        ...(input.canceledAt !== undefined ? { canceledAt: input.canceledAt } : {}),
        stripeStateAt: input.at,
        updatedAt: now,
      };
      if (existing) {
        await tx.update(subscriptions).set(state).where(eq(subscriptions.id, existing.id));
      } else {
        const id = randomUUID();
        await tx.insert(subscriptions).values({
          id,
          userId,
          agentId,
          stripeSubscriptionId: input.stripeSubscriptionId,
          createdAt: now,
          ...state,
        });
        await carryOverUsage(tx, userId, agentId, id);
      }
      const type =
        input.status === "canceled"
          ? "subscription.canceled"
          : existing
            ? "subscription.updated"
            : "subscription.created";
      await emit(tx, { type, userId, agentId });
    });
  }
}

const idOf = (value: string | { id: string } | null | undefined): string | null =>
  typeof value === "string" ? value : (value?.id ?? null);
