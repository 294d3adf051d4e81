import { z } from "zod";
import {
  AddonDtoSchema,
  MetricUsageDtoSchema,
  PricingTierDtoSchema,
  SubscriptionDtoSchema,
  SubscriptionStatusSchema,
} from "./billing.ts";
import { RoleSchema } from "./identity.ts";

/** Operator-console (platform admin) API: users, subscriptions and usage across users, Stripe events. */

const page = {
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
};
/** A search term: case-insensitive substring. */
const term = z.string().trim().min(1).max(200);

// ── Users ────────────────────────────────────────────────────────────────
export const AdminUserQuerySchema = z.strictObject({
  ...page,
  /** Matches email or name (substring, case-insensitive). */
  q: term.optional(),
  role: RoleSchema.optional(),
  banned: z.enum(["true", "false"]).optional(),
});
export const SetRoleBodySchema = z.strictObject({ role: RoleSchema });
export const BanUserBodySchema = z.strictObject({
  reason: z.string().trim().min(1).max(500).optional(),
  /** Seconds until the ban lifts; omitted = until unbanned. */
  expiresInSeconds: z
    .number()
    .int()
    .min(60)
    .max(10 * 365 * 86_400)
    .optional(),
});

// ── Subscriptions and usage across users ─────────────────────────────────
export const AdminSubscriptionQuerySchema = z.strictObject({
  ...page,
  /** The subscriber's email (substring, case-insensitive). */
  email: term.optional(),
  agentId: z.string().min(1).max(200).optional(),
  status: SubscriptionStatusSchema.optional(),
  /** `true`: only active/trialing subscriptions. */
  live: z.enum(["true", "false"]).optional(),
});
const AdminSubscriptionParties = {
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  agent: z.object({ id: z.string(), slug: z.string(), name: z.string() }),
};
export const AdminSubscriptionDtoSchema = SubscriptionDtoSchema.extend({
  userId: z.string(),
  ...AdminSubscriptionParties,
});
export type AdminSubscriptionDto = z.infer<typeof AdminSubscriptionDtoSchema>;
/** One subscription with its addons and, while it is live, the usage of every metric. */
export const AdminSubscriptionDetailDtoSchema = AdminSubscriptionDtoSchema.extend({
  addons: z.array(AddonDtoSchema),
  /** Null when the subscription is not live (usage is counted only against a live one). */
  usage: z.array(MetricUsageDtoSchema).nullable(),
});
export type AdminSubscriptionDetailDto = z.infer<typeof AdminSubscriptionDetailDtoSchema>;

/** `GET /admin/usage`: live subscriptions with their usage, searchable like subscriptions. */
export const AdminUsageQuerySchema = z.strictObject({
  cursor: page.cursor,
  limit: z.coerce.number().int().min(1).max(50).default(20),
  email: term.optional(),
  agentId: z.string().min(1).max(200).optional(),
});
export const AdminUsageRowDtoSchema = z.object({
  subscriptionId: z.string(),
  ...AdminSubscriptionParties,
  tier: PricingTierDtoSchema.pick({ id: true, tierName: true }),
  usage: z.array(MetricUsageDtoSchema),
});
export type AdminUsageRowDto = z.infer<typeof AdminUsageRowDtoSchema>;

// ── Stripe events ────────────────────────────────────────────────────────
export const StripeEventStatusSchema = z.enum(["received", "processed", "error"]);
export const StripeEventQuerySchema = z.strictObject({
  ...page,
  status: StripeEventStatusSchema.optional(),
  type: z.string().trim().min(1).max(100).optional(),
});
export const StripeEventDtoSchema = z.object({
  id: z.string(),
  type: z.string(),
  status: StripeEventStatusSchema,
  error: z.string().nullable(),
  attempts: z.number().int(),
  eventCreatedAt: z.string(),
  receivedAt: z.string(),
  processedAt: z.string().nullable(),
});
export type StripeEventDto = z.infer<typeof StripeEventDtoSchema>;
export const StripeReplayResultSchema = z.object({
  /** False when the event had already been processed (replaying it changes nothing). */
  replayed: z.boolean(),
  event: StripeEventDtoSchema,
});
