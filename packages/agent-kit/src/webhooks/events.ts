import { z } from "zod";

/** The events the marketplace pushes (docs/agent-events.md); the list lives in the contract. */
export { AGENT_EVENT_TYPES as MARKETPLACE_EVENT_TYPES } from "@amp/contract";

const SubscriptionSnapshotSchema = z.object({
  id: z.string(),
  status: z.string(),
  tier: z.object({ id: z.string(), name: z.string(), isFree: z.boolean() }),
  currentPeriodEnd: z.string().nullable(),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: z.string().nullable(),
  trialEndsAt: z.string().nullable(),
});

/** One event as the marketplace signs and sends it. Unknown fields are kept (the marketplace may add some). */
export const MarketplaceEventSchema = z.object({
  id: z.string().min(1).max(200),
  type: z.string().min(1).max(100),
  timestamp: z.string(),
  data: z.looseObject({
    agentId: z.string(),
    /** The user's marketplace subject (the ID token's `sub`); null for agent-wide events. */
    sub: z.string().nullable(),
    /** Per (user, agent), increasing with every event: a lower one than already applied is stale. */
    sequence: z.number().int().positive(),
    subscription: SubscriptionSnapshotSchema.nullable().optional(),
    addons: z
      .array(
        z.object({
          id: z.string(),
          metricSlug: z.string(),
          amount: z.number(),
          scope: z.string(),
          expiresAt: z.string().nullable(),
        }),
      )
      .optional(),
    agent: z.object({ status: z.string(), slug: z.string() }).nullable().optional(),
  }),
});
export type MarketplaceEvent = z.infer<typeof MarketplaceEventSchema>;

/** What the browser hears over `GET /api/me/events` (Server-Sent Events). */
export interface BrowserEvent {
  id: string;
  type: string;
  subscription?: MarketplaceEvent["data"]["subscription"];
  addons?: MarketplaceEvent["data"]["addons"];
}

type Listener = (event: BrowserEvent) => void;

/**
 * This process's signed-in browsers, by agent user id. The webhook route
 * publishes to the user's open event streams after it applied an event.
 */
export class UserEventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  subscribe(userId: string, listener: Listener): () => void {
    const set = this.listeners.get(userId) ?? new Set<Listener>();
    this.listeners.set(userId, set);
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(userId);
    };
  }

  publish(userId: string, event: BrowserEvent) {
    for (const listener of this.listeners.get(userId) ?? []) listener(event);
  }

  /** Open streams, for tests and metrics. */
  get size() {
    let n = 0;
    for (const set of this.listeners.values()) n += set.size;
    return n;
  }
}
