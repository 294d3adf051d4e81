import { z } from "zod";
import { jsonDepth, METADATA_LIMITS, noNul } from "./json-limits.ts";

const slug = z
  .string()
  .min(2)
  .max(64)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, "lowercase letters, digits and single dashes");
const httpsOrLocalUrl = z.url({ protocol: /^https?$/ }).max(2048);
const iso = z.string();

// ── Catalog ──────────────────────────────────────────────────────────────
export const AGENT_STATUSES = ["draft", "coming_soon", "active", "inactive"] as const;
export const AgentStatusSchema = z.enum(AGENT_STATUSES);
export type AgentStatus = z.infer<typeof AgentStatusSchema>;

/**
 * Statuses an agent may move to (`POST`/`PATCH /agents/:id`; DELETE is the
 * move to `inactive`). A live agent is only taken down (`inactive`), never
 * sent back to draft or "coming soon" under its subscribers; an inactive
 * agent may come back in any status.
 */
export const AGENT_STATUS_TRANSITIONS: Record<AgentStatus, readonly AgentStatus[]> = {
  draft: ["draft", "coming_soon", "active", "inactive"],
  coming_soon: ["coming_soon", "draft", "active", "inactive"],
  active: ["active", "inactive"],
  inactive: ["inactive", "draft", "coming_soon", "active"],
};

/** The fields of an agent an operator sets, without defaults (shared by create/full update and PATCH). */
const agentFields = {
  name: z.string().trim().min(1).max(120),
  slug,
  tagline: z.string().max(200).nullable(),
  description: z.string().max(2_000).nullable(),
  longDescription: z.string().max(20_000).nullable(),
  iconUrl: httpsOrLocalUrl.nullable(),
  photoUrls: z.array(httpsOrLocalUrl).max(20),
  status: AgentStatusSchema,
  featured: z.boolean(),
  isNew: z.boolean(),
  productDomain: z.url({ protocol: /^https?$/ }).nullable(),
  docsUrl: httpsOrLocalUrl.nullable(),
  changelogUrl: httpsOrLocalUrl.nullable(),
  redirectUris: z
    .array(z.url({ protocol: /^https?$/ }).max(2048))
    .min(1)
    .max(20),
  postLogoutRedirectUris: z.array(z.url({ protocol: /^https?$/ }).max(2048)).max(20),
};

/** Fields an operator sets on an agent (`POST /agents`, and in full on `POST /agents/:id`); omitted fields take defaults. */
export const AgentInputSchema = z.strictObject({
  ...agentFields,
  tagline: agentFields.tagline.default(null),
  description: agentFields.description.default(null),
  longDescription: agentFields.longDescription.default(null),
  iconUrl: agentFields.iconUrl.default(null),
  photoUrls: agentFields.photoUrls.default([]),
  status: agentFields.status.default("draft"),
  featured: agentFields.featured.default(false),
  isNew: agentFields.isNew.default(false),
  productDomain: agentFields.productDomain.default(null),
  docsUrl: agentFields.docsUrl.default(null),
  changelogUrl: agentFields.changelogUrl.default(null),
  postLogoutRedirectUris: agentFields.postLogoutRedirectUris.default([]),
});
export type AgentInput = z.input<typeof AgentInputSchema>;

/**
 * `PATCH /agents/:id`: only the fields sent change; a field sent as null is
 * cleared. Unknown fields are refused; at least one field is required.
 */
export const AgentPatchSchema = z
  .strictObject(agentFields)
  .partial()
  .refine((v) => Object.keys(v).length > 0, { message: "nothing to update" });
export type AgentPatch = z.input<typeof AgentPatchSchema>;

export const AgentDtoSchema = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  tagline: z.string().nullable(),
  description: z.string().nullable(),
  longDescription: z.string().nullable(),
  iconUrl: z.string().nullable(),
  photoUrls: z.array(z.string()),
  status: AgentStatusSchema,
  featured: z.boolean(),
  isNew: z.boolean(),
  productDomain: z.string().nullable(),
  docsUrl: z.string().nullable(),
  changelogUrl: z.string().nullable(),
  oauthClientId: z.string(),
  redirectUris: z.array(z.string()),
  postLogoutRedirectUris: z.array(z.string()),
  createdBy: z.string().nullable(),
  publishedAt: iso.nullable(),
  createdAt: iso,
  updatedAt: iso,
});
export type AgentDto = z.infer<typeof AgentDtoSchema>;

export const CreatedAgentDtoSchema = z.object({
  id: z.string(),
  slug: z.string(),
  oauthClientId: z.string(),
  redirectUris: z.array(z.string()),
});

export type CreatedAgentDto = z.infer<typeof CreatedAgentDtoSchema>;

export const AgentListQuerySchema = z.strictObject({
  cursor: z.string().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Platform admins only: include drafts and inactive agents. */
  all: z.enum(["true", "false"]).optional(),
});

// ── Pricing tiers ────────────────────────────────────────────────────────
export const BillingIntervalSchema = z.enum(["month", "year", "one_time"]);

export const CreatePricingTierBodySchema = z
  .strictObject({
    tierName: z.string().trim().min(1).max(60),
    isFree: z.boolean(),
    price: z
      .string()
      .regex(/^\d{1,8}(\.\d{1,2})?$/, "a decimal amount such as 19.00")
      .default("0.00"),
    currency: z
      .string()
      .regex(/^[A-Z]{3}$/, "ISO 4217 code such as USD")
      .default("USD"),
    billingInterval: BillingIntervalSchema.default("month"),
    featuresIncluded: z.array(z.string().max(200)).max(50).default([]),
    recommended: z.boolean().default(false),
    trialDays: z.number().int().min(0).max(365).default(0),
    sortOrder: z.number().int().min(0).max(10_000).default(0),
  })
  .refine((t) => t.isFree === (Number(t.price) === 0), {
    message: "free tiers have price 0 and paid tiers a positive price",
    path: ["price"],
  });
export type CreatePricingTierBody = z.input<typeof CreatePricingTierBodySchema>;

/**
 * `PATCH /agents/:agentId/pricing/:tierId`: how a tier is presented. Its
 * price terms (isFree, price, currency, billingInterval) are fixed once
 * created (a Stripe price never changes): sending one is a 400; create a new
 * tier and archive the old one instead.
 */
export const UpdatePricingTierBodySchema = z
  .strictObject({
    tierName: z.string().trim().min(1).max(60).optional(),
    featuresIncluded: z.array(z.string().max(200)).max(50).optional(),
    recommended: z.boolean().optional(),
    trialDays: z.number().int().min(0).max(365).optional(),
    sortOrder: z.number().int().min(0).max(10_000).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: "nothing to update" });

export const PricingTierDtoSchema = z.object({
  id: z.string(),
  agentId: z.string(),
  tierName: z.string(),
  isFree: z.boolean(),
  price: z.string(),
  currency: z.string(),
  billingInterval: BillingIntervalSchema,
  featuresIncluded: z.array(z.string()),
  recommended: z.boolean(),
  trialDays: z.number().int(),
  sortOrder: z.number().int(),
  stripeProductId: z.string().nullable(),
  stripePriceId: z.string().nullable(),
  createdAt: iso,
  updatedAt: iso,
});
export type PricingTierDto = z.infer<typeof PricingTierDtoSchema>;

// ── Metrics, quotas, addons ──────────────────────────────────────────────
export const MetricKindSchema = z.enum(["fixed", "rolling"]);
export type MetricKind = z.infer<typeof MetricKindSchema>;

export const CreateMetricBodySchema = z.strictObject({
  slug,
  displayName: z.string().trim().min(1).max(80),
  unit: z.string().trim().min(1).max(40),
  kind: MetricKindSchema,
});
/** Slug and kind are immutable; only the labels change. */
export const UpdateMetricBodySchema = z
  .strictObject({
    displayName: z.string().trim().min(1).max(80).optional(),
    unit: z.string().trim().min(1).max(40).optional(),
  })
  .refine((v) => v.displayName !== undefined || v.unit !== undefined, { message: "nothing to update" });

export const MetricDefinitionDtoSchema = z.object({
  id: z.string(),
  agentId: z.string(),
  slug: z.string(),
  displayName: z.string(),
  unit: z.string(),
  kind: MetricKindSchema,
  createdAt: iso,
});
export type MetricDefinitionDto = z.infer<typeof MetricDefinitionDtoSchema>;

/** `quotaLimit`: null = unlimited, 0 = deny, n > 0 = cap. Missing row = deny. */
export const SetQuotaBodySchema = z.strictObject({
  quotaLimit: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
});
export const QuotaDtoSchema = z.object({
  tierId: z.string(),
  metricId: z.string(),
  metricSlug: z.string(),
  quotaLimit: z.number().int().nullable(),
});
export type QuotaDto = z.infer<typeof QuotaDtoSchema>;

export const AddonScopeSchema = z.enum(["one_cycle", "permanent"]);
export const GrantAddonBodySchema = z.strictObject({
  metricSlug: slug,
  amount: z.number().int().min(1).max(2_147_483_647),
  scope: AddonScopeSchema,
});
export const AddonDtoSchema = z.object({
  id: z.string(),
  subscriptionId: z.string(),
  metricSlug: z.string(),
  amount: z.number().int(),
  scope: AddonScopeSchema,
  expiresAt: iso.nullable(),
  revokedAt: iso.nullable(),
  createdAt: iso,
});
export type AddonDto = z.infer<typeof AddonDtoSchema>;

// ── Subscriptions and checkout ───────────────────────────────────────────
export const SUBSCRIPTION_STATUSES = [
  "active",
  "trialing",
  "past_due",
  "incomplete",
  "incomplete_expired",
  "unpaid",
  "canceled",
] as const;
export const SubscriptionStatusSchema = z.enum(SUBSCRIPTION_STATUSES);
export type SubscriptionStatus = z.infer<typeof SubscriptionStatusSchema>;

export const SubscriptionDtoSchema = z.object({
  id: z.string(),
  agentId: z.string(),
  tierId: z.string(),
  status: SubscriptionStatusSchema,
  stripeCustomerId: z.string().nullable(),
  stripeSubscriptionId: z.string().nullable(),
  currentPeriodEnd: iso.nullable(),
  cancelAtPeriodEnd: z.boolean(),
  canceledAt: iso.nullable(),
  /** A plan change that takes effect at `currentPeriodEnd` (a downgrade to a free tier); null when none. */
  scheduledTierId: z.string().nullable().default(null),
  tier: PricingTierDtoSchema,
  createdAt: iso,
  updatedAt: iso,
});
export type SubscriptionDto = z.infer<typeof SubscriptionDtoSchema>;

export const CheckoutBodySchema = z.strictObject({ returnUrl: z.url().max(2048) });
export const CheckoutResultSchema = z.discriminatedUnion("status", [
  z.object({ status: z.literal("active"), subscriptionId: z.string(), returnUrl: z.string() }),
  z.object({ status: z.literal("redirect"), url: z.string() }),
]);
export type CheckoutResult = z.infer<typeof CheckoutResultSchema>;

/** `POST /me/subscriptions/:agentId/plan`: change the live plan to `tierId`. */
export const ChangePlanBodySchema = z.strictObject({
  tierId: z.string().min(1).max(200),
  returnUrl: z.url().max(2048),
});
/** Upgrades act now (free) or go through checkout (paid); a move to a free tier waits for the period end. */
export const ChangePlanResultSchema = z.discriminatedUnion("status", [
  ...CheckoutResultSchema.options,
  z.object({
    status: z.literal("scheduled"),
    subscriptionId: z.string(),
    effectiveAt: iso,
    returnUrl: z.string(),
  }),
]);
export type ChangePlanResult = z.infer<typeof ChangePlanResultSchema>;

/** How long, and how often, a client polls `GET /me/subscriptions/:agentId` after a checkout return. */
export const CHECKOUT_POLL = { intervalMs: 1_500, timeoutMs: 15_000 } as const;

// ── Usage metering ───────────────────────────────────────────────────────
const delta = z
  .number({ error: "delta must be a number" })
  .int("delta must be a whole number")
  .min(1, "delta must be at least 1")
  .max(2_147_483_647, "delta must be below 2^31");
const clientReqId = z
  .string({ error: "clientReqId is required" })
  .min(1)
  .max(200, "clientReqId is at most 200 characters")
  .refine(noNul, "clientReqId must not contain the NUL character");

/** Stored with the ledger row as jsonb: bounded in size and depth (METADATA_LIMITS), no NUL anywhere. */
const metadata = z.record(z.string(), z.unknown()).superRefine((value, ctx) => {
  if (jsonDepth(value, METADATA_LIMITS.maxDepth) > METADATA_LIMITS.maxDepth) {
    ctx.addIssue({ code: "custom", message: `metadata nests at most ${METADATA_LIMITS.maxDepth} levels` });
    return;
  }
  const text = JSON.stringify(value);
  if (new TextEncoder().encode(text).length > METADATA_LIMITS.maxBytes)
    ctx.addIssue({
      code: "custom",
      message: `metadata is at most ${METADATA_LIMITS.maxBytes} bytes as JSON`,
    });
  else if (text.includes("\\u0000"))
    ctx.addIssue({ code: "custom", message: "metadata must not contain the NUL character" });
});

export const ConsumeBodySchema = z.strictObject({
  delta,
  clientReqId,
  metadata: metadata.optional(),
});
export type ConsumeBody = z.infer<typeof ConsumeBodySchema>;
export const ReleaseBodySchema = z.strictObject({ delta, clientReqId });
export type ReleaseBody = z.infer<typeof ReleaseBodySchema>;

/** Outcome of a consume or release; a replay with the same `clientReqId` returns it unchanged. */
export const UsageResultDtoSchema = z.object({
  clientReqId: z.string(),
  metricSlug: z.string(),
  kind: MetricKindSchema,
  delta: z.number().int(),
  used: z.number().int(),
  effectiveQuota: z.number().int().nullable(),
  remaining: z.number().int().nullable(),
  resetsAt: iso.nullable(),
});
export type UsageResultDto = z.infer<typeof UsageResultDtoSchema>;

export const MetricUsageDtoSchema = z.object({
  metricSlug: z.string(),
  displayName: z.string(),
  unit: z.string(),
  kind: MetricKindSchema,
  baseQuota: z.number().int().nullable(),
  addonsBonus: z.number().int(),
  effectiveQuota: z.number().int().nullable(),
  used: z.number().int(),
  remaining: z.number().int().nullable(),
  resetsAt: iso.nullable(),
});
export type MetricUsageDto = z.infer<typeof MetricUsageDtoSchema>;

/** `details` of a 429 QUOTA_EXCEEDED. */
export const QuotaExceededDetailsSchema = z.object({
  remaining: z.number().int(),
  resetsAt: iso.nullable(),
  effectiveQuota: z.number().int(),
});
export type QuotaExceededDetails = z.infer<typeof QuotaExceededDetailsSchema>;
