/**
 * Drizzle view of the marketplace database.
 *
 * The better-auth tables are created by migrations/0001_auth.sql (generated
 * from better-auth's own schema) and written by better-auth; only the columns
 * the marketplace itself reads or writes are declared here. The marketplace's
 * own tables are declared in full and created by the later migrations.
 */
import {
  bigint,
  bigserial,
  boolean,
  char,
  index,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  text,
  timestamp,
} from "drizzle-orm/pg-core";

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

export const user = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull(),
  emailVerified: boolean("emailVerified").notNull(),
  image: text("image"),
  role: text("role"),
  banned: boolean("banned"),
  banReason: text("banReason"),
  banExpires: ts("banExpires"),
  createdAt: ts("createdAt").notNull(),
  updatedAt: ts("updatedAt").notNull(),
});

export const oauthClient = pgTable("oauthClient", {
  id: text("id").primaryKey(),
  clientId: text("clientId").notNull(),
  clientSecret: text("clientSecret"),
  name: text("name"),
  disabled: boolean("disabled"),
  skipConsent: boolean("skipConsent"),
  enableEndSession: boolean("enableEndSession"),
  requirePKCE: boolean("requirePKCE"),
  tokenEndpointAuthMethod: text("tokenEndpointAuthMethod"),
  redirectUris: jsonb("redirectUris").$type<string[]>().notNull(),
  postLogoutRedirectUris: jsonb("postLogoutRedirectUris").$type<string[]>(),
  grantTypes: jsonb("grantTypes").$type<string[]>(),
  responseTypes: jsonb("responseTypes").$type<string[]>(),
  scopes: jsonb("scopes").$type<string[]>(),
  applicationType: text("applicationType"),
  createdAt: ts("createdAt"),
  updatedAt: ts("updatedAt"),
});

export const oauthAccessToken = pgTable("oauthAccessToken", {
  id: text("id").primaryKey(),
  token: text("token").notNull(),
  clientId: text("clientId").notNull(),
  userId: text("userId"),
  scopes: jsonb("scopes").$type<string[]>().notNull(),
  expiresAt: ts("expiresAt").notNull(),
  revoked: ts("revoked"),
});

export const interactions = pgTable(
  "interactions",
  {
    id: bigserial("id", { mode: "number" }).primaryKey(),
    userId: text("userId").references(() => user.id, { onDelete: "set null" }),
    type: text("type").notNull(),
    metadata: jsonb("metadata").$type<Record<string, unknown>>().notNull().default({}),
    createdAt: ts("createdAt").notNull().defaultNow(),
  },
  (t) => [index("interactions_userId_idx").on(t.userId, t.createdAt)],
);

// ── Billing (migrations/0003_billing.sql) ──────────────────────────────────

export const agents = pgTable("agents", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  slug: text("slug").notNull(),
  tagline: text("tagline"),
  description: text("description"),
  longDescription: text("longDescription"),
  iconUrl: text("iconUrl"),
  photoUrls: jsonb("photoUrls").$type<string[]>().notNull(),
  status: text("status").$type<"draft" | "coming_soon" | "active" | "inactive">().notNull(),
  featured: boolean("featured").notNull(),
  isNew: boolean("isNew").notNull(),
  productDomain: text("productDomain"),
  docsUrl: text("docsUrl"),
  changelogUrl: text("changelogUrl"),
  oauthClientId: text("oauthClientId").notNull(),
  redirectUris: jsonb("redirectUris").$type<string[]>().notNull(),
  postLogoutRedirectUris: jsonb("postLogoutRedirectUris").$type<string[]>().notNull(),
  createdBy: text("createdBy"),
  publishedAt: ts("publishedAt"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull().defaultNow(),
});

export const pricingTiers = pgTable("agent_pricing_tiers", {
  id: text("id").primaryKey(),
  agentId: text("agentId").notNull(),
  tierName: text("tierName").notNull(),
  isFree: boolean("isFree").notNull(),
  price: numeric("price", { precision: 10, scale: 2 }).notNull(),
  currency: char("currency", { length: 3 }).notNull(),
  billingInterval: text("billingInterval").$type<"month" | "year" | "one_time">().notNull(),
  featuresIncluded: jsonb("featuresIncluded").$type<string[]>().notNull(),
  recommended: boolean("recommended").notNull(),
  trialDays: integer("trialDays").notNull(),
  sortOrder: integer("sortOrder").notNull(),
  stripeProductId: text("stripeProductId"),
  stripePriceId: text("stripePriceId"),
  archivedAt: ts("archivedAt"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull().defaultNow(),
});

export const metricDefinitions = pgTable("agent_metric_definitions", {
  id: text("id").primaryKey(),
  agentId: text("agentId").notNull(),
  slug: text("slug").notNull(),
  displayName: text("displayName").notNull(),
  unit: text("unit").notNull(),
  kind: text("kind").$type<"fixed" | "rolling">().notNull(),
  createdAt: ts("createdAt").notNull().defaultNow(),
});

export const tierMetricQuotas = pgTable(
  "tier_metric_quotas",
  {
    tierId: text("tierId").notNull(),
    metricId: text("metricId").notNull(),
    quotaLimit: bigint("quotaLimit", { mode: "number" }),
  },
  (t) => [primaryKey({ columns: [t.tierId, t.metricId] })],
);

export type SubscriptionStatus =
  | "active"
  | "trialing"
  | "past_due"
  | "incomplete"
  | "incomplete_expired"
  | "unpaid"
  | "canceled";

export const subscriptions = pgTable("user_agent_subscriptions", {
  id: text("id").primaryKey(),
  userId: text("userId").notNull(),
  agentId: text("agentId").notNull(),
  tierId: text("tierId").notNull(),
  status: text("status").$type<SubscriptionStatus>().notNull(),
  stripeCustomerId: text("stripeCustomerId"),
  stripeSubscriptionId: text("stripeSubscriptionId"),
  periodAnchor: ts("periodAnchor").notNull().defaultNow(),
  currentPeriodEnd: ts("currentPeriodEnd"),
  trialEndsAt: ts("trialEndsAt"),
  cancelAtPeriodEnd: boolean("cancelAtPeriodEnd").notNull().default(false),
  /** The tier that replaces this one at `currentPeriodEnd` (a scheduled downgrade to a free tier). */
  scheduledTierId: text("scheduledTierId"),
  canceledAt: ts("canceledAt"),
  stripeStateAt: ts("stripeStateAt"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull().defaultNow(),
});

export const subscriptionAddons = pgTable("subscription_addons", {
  id: text("id").primaryKey(),
  subscriptionId: text("subscriptionId").notNull(),
  metricId: text("metricId").notNull(),
  amount: bigint("amount", { mode: "number" }).notNull(),
  scope: text("scope").$type<"one_cycle" | "permanent">().notNull(),
  expiresAt: ts("expiresAt"),
  revokedAt: ts("revokedAt"),
  grantedBy: text("grantedBy"),
  createdAt: ts("createdAt").notNull().defaultNow(),
});

export const usageCounters = pgTable(
  "usage_counters",
  {
    subscriptionId: text("subscriptionId").notNull(),
    metricId: text("metricId").notNull(),
    used: bigint("used", { mode: "number" }).notNull(),
    periodStart: ts("periodStart"),
    periodEnd: ts("periodEnd"),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.metricId] })],
);

export const usageLedger = pgTable("usage_ledger", {
  id: bigserial("id", { mode: "number" }).primaryKey(),
  clientReqId: text("clientReqId").notNull(),
  action: text("action").$type<"consume" | "release">().notNull(),
  userId: text("userId").notNull(),
  agentId: text("agentId").notNull(),
  subscriptionId: text("subscriptionId").notNull(),
  metricId: text("metricId").notNull(),
  metricSlug: text("metricSlug").notNull(),
  kind: text("kind").notNull(),
  delta: bigint("delta", { mode: "number" }).notNull(),
  usedAfter: bigint("usedAfter", { mode: "number" }).notNull(),
  effectiveQuota: bigint("effectiveQuota", { mode: "number" }),
  resetsAt: ts("resetsAt"),
  metadata: jsonb("metadata"),
  createdAt: ts("createdAt").notNull().defaultNow(),
});

export const stripeEvents = pgTable("stripe_events", {
  id: text("id").primaryKey(),
  type: text("type").notNull(),
  eventCreatedAt: ts("eventCreatedAt").notNull(),
  payload: jsonb("payload").notNull(),
  status: text("status").$type<"received" | "processed" | "error">().notNull(),
  error: text("error"),
  attempts: integer("attempts").notNull().default(0),
  receivedAt: ts("receivedAt").notNull().defaultNow(),
  processedAt: ts("processedAt"),
});

/** Rate-limit counters (migrations/0004_rate_limits.sql, UNLOGGED); written only by src/rate-limit/postgres-store.ts. */
export const rateLimits = pgTable(
  "rate_limits",
  {
    key: text("key").primaryKey(),
    count: integer("count").notNull(),
    expiresAt: ts("expiresAt").notNull(),
  },
  (t) => [index("rate_limits_expiresAt_idx").on(t.expiresAt)],
);

/** Append-only (migrations/0008_audit_log.sql: triggers refuse UPDATE, DELETE, TRUNCATE). Written by audit/log.ts. */
export const auditLog = pgTable("audit_log", {
  id: bigint("id", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  at: ts("at").notNull().defaultNow(),
  actorId: text("actorId"),
  actorKind: text("actorKind").$type<"user" | "admin_token" | "cli" | "system" | "anonymous">().notNull(),
  action: text("action").notNull(),
  targetType: text("targetType").notNull(),
  targetId: text("targetId"),
  before: jsonb("before"),
  after: jsonb("after"),
  requestId: text("requestId"),
});

/** Agents' webhook endpoints (migrations/0012_agent_events.sql; src/events/). */
export const webhookEndpoints = pgTable("webhook_endpoints", {
  id: text("id").primaryKey(),
  agentId: text("agentId").notNull(),
  url: text("url").notNull(),
  description: text("description"),
  secret: text("secret").notNull(),
  previousSecret: text("previousSecret"),
  previousSecretExpiresAt: ts("previousSecretExpiresAt"),
  disabledAt: ts("disabledAt"),
  createdAt: ts("createdAt").notNull().defaultNow(),
  updatedAt: ts("updatedAt").notNull().defaultNow(),
});

export const webhookSequences = pgTable(
  "webhook_sequences",
  {
    agentId: text("agentId").notNull(),
    userId: text("userId").notNull(),
    last: bigint("last", { mode: "number" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.agentId, t.userId] })],
);

/** The outbox: one row per event, written in the transaction of the change (src/events/emit.ts). */
export const webhookEvents = pgTable("webhook_events", {
  id: text("id").primaryKey(),
  agentId: text("agentId").notNull(),
  userId: text("userId"),
  type: text("type").notNull(),
  sequence: bigint("sequence", { mode: "number" }).notNull(),
  payload: jsonb("payload").notNull(),
  createdAt: ts("createdAt").notNull().defaultNow(),
});

/** The delivery log: one row per (event, endpoint). */
export const webhookDeliveries = pgTable("webhook_deliveries", {
  id: text("id").primaryKey(),
  eventId: text("eventId").notNull(),
  endpointId: text("endpointId").notNull(),
  status: text("status").$type<"pending" | "delivered" | "failed">().notNull(),
  attempts: integer("attempts").notNull().default(0),
  lastStatusCode: integer("lastStatusCode"),
  lastError: text("lastError"),
  lastAttemptAt: ts("lastAttemptAt"),
  deliveredAt: ts("deliveredAt"),
  jobId: text("jobId"),
  createdAt: ts("createdAt").notNull().defaultNow(),
});
