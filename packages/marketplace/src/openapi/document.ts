import {
  AddonDtoSchema,
  AdminUserDtoSchema,
  AgentDtoSchema,
  AgentInputSchema,
  CheckoutBodySchema,
  CheckoutResultSchema,
  ConsumeBodySchema,
  CreatedAgentDtoSchema,
  CreateMetricBodySchema,
  CreatePricingTierBodySchema,
  ErrorEnvelopeSchema,
  GrantAddonBodySchema,
  MeDtoSchema,
  MetricDefinitionDtoSchema,
  MetricUsageDtoSchema,
  PricingTierDtoSchema,
  QuotaDtoSchema,
  ReleaseBodySchema,
  SetQuotaBodySchema,
  SubscriptionDtoSchema,
  successEnvelope,
  UpdateMeBodySchema,
  UpdateMetricBodySchema,
  UsageResultDtoSchema,
} from "@amp/contract";
import { z } from "zod";

type Auth = "public" | "user" | "platform_admin";

/** One documented operation. The schemas are the same contract objects the handlers validate with. */
export interface Operation {
  method: "get" | "post" | "put" | "delete";
  path: string;
  tag: string;
  summary: string;
  auth: Auth;
  body?: z.ZodType;
  response: z.ZodType;
  status?: number;
  errors?: number[];
}

const list = <T extends z.ZodType>(s: T) => z.array(s);

/** Every JSON API route of the marketplace (the OIDC endpoints are described by discovery). */
export const OPERATIONS: Operation[] = [
  {
    method: "get",
    path: "/me",
    tag: "Me",
    summary: "The caller's profile",
    auth: "user",
    response: MeDtoSchema,
  },
  {
    method: "post",
    path: "/me",
    tag: "Me",
    summary: "Update name or picture",
    auth: "user",
    body: UpdateMeBodySchema,
    response: MeDtoSchema,
  },
  {
    method: "get",
    path: "/agents",
    tag: "Catalog",
    summary: "List agents (active and coming soon; `all=true` for admins)",
    auth: "public",
    response: list(AgentDtoSchema),
  },
  {
    method: "get",
    path: "/agents/by-slug/{slug}",
    tag: "Catalog",
    summary: "An agent by slug",
    auth: "public",
    response: AgentDtoSchema,
    errors: [404],
  },
  {
    method: "get",
    path: "/agents/{agentId}",
    tag: "Catalog",
    summary: "An agent by id",
    auth: "public",
    response: AgentDtoSchema,
    errors: [404],
  },
  {
    method: "post",
    path: "/agents",
    tag: "Catalog",
    summary: "Register an agent and its OAuth client",
    auth: "platform_admin",
    body: AgentInputSchema,
    response: CreatedAgentDtoSchema,
    status: 201,
    errors: [400, 409],
  },
  {
    method: "post",
    path: "/agents/{agentId}",
    tag: "Catalog",
    summary: "Full update (status, redirect URIs)",
    auth: "platform_admin",
    body: AgentInputSchema,
    response: AgentDtoSchema,
    errors: [400, 404, 409, 422],
  },
  {
    method: "delete",
    path: "/agents/{agentId}",
    tag: "Catalog",
    summary: "Deactivate (client disabled)",
    auth: "platform_admin",
    response: AgentDtoSchema,
    errors: [404],
  },
  {
    method: "get",
    path: "/agents/{agentId}/pricing",
    tag: "Pricing",
    summary: "Pricing tiers",
    auth: "public",
    response: list(PricingTierDtoSchema),
  },
  {
    method: "post",
    path: "/agents/{agentId}/pricing",
    tag: "Pricing",
    summary: "Create a tier (paid: Stripe product + price)",
    auth: "platform_admin",
    body: CreatePricingTierBodySchema,
    response: PricingTierDtoSchema,
    status: 201,
    errors: [400, 409, 503],
  },
  {
    method: "delete",
    path: "/agents/{agentId}/pricing/{tierId}",
    tag: "Pricing",
    summary: "Archive a tier",
    auth: "platform_admin",
    response: z.object({ archived: z.literal(true) }),
  },
  {
    method: "get",
    path: "/agents/{agentId}/pricing/{tierId}/quotas",
    tag: "Pricing",
    summary: "A tier's quotas",
    auth: "public",
    response: list(QuotaDtoSchema),
  },
  {
    method: "put",
    path: "/agents/{agentId}/pricing/{tierId}/quotas/{metricId}",
    tag: "Pricing",
    summary: "Set a quota (null unlimited, 0 deny)",
    auth: "platform_admin",
    body: SetQuotaBodySchema,
    response: QuotaDtoSchema,
  },
  {
    method: "post",
    path: "/agents/{agentId}/pricing/{tierId}/checkout",
    tag: "Subscriptions",
    summary: "Subscribe: free at once, paid via checkout",
    auth: "user",
    body: CheckoutBodySchema,
    response: CheckoutResultSchema,
    errors: [400, 404, 409, 422, 503],
  },
  {
    method: "get",
    path: "/agents/{agentId}/metrics",
    tag: "Metrics",
    summary: "Metric definitions",
    auth: "public",
    response: list(MetricDefinitionDtoSchema),
  },
  {
    method: "post",
    path: "/agents/{agentId}/metrics",
    tag: "Metrics",
    summary: "Define a metric",
    auth: "platform_admin",
    body: CreateMetricBodySchema,
    response: MetricDefinitionDtoSchema,
    status: 201,
    errors: [400, 409],
  },
  {
    method: "post",
    path: "/agents/{agentId}/metrics/{metricId}",
    tag: "Metrics",
    summary: "Relabel a metric (slug and kind are immutable)",
    auth: "platform_admin",
    body: UpdateMetricBodySchema,
    response: MetricDefinitionDtoSchema,
  },
  {
    method: "get",
    path: "/me/subscriptions",
    tag: "Subscriptions",
    summary: "The caller's subscriptions",
    auth: "user",
    response: list(SubscriptionDtoSchema),
  },
  {
    method: "get",
    path: "/me/subscriptions/{agentId}",
    tag: "Subscriptions",
    summary: "The live (active/trialing) subscription, else 404",
    auth: "user",
    response: SubscriptionDtoSchema,
    errors: [404],
  },
  {
    method: "post",
    path: "/me/subscriptions/{agentId}/cancel",
    tag: "Subscriptions",
    summary: "Cancel",
    auth: "user",
    response: SubscriptionDtoSchema,
    errors: [404],
  },
  {
    method: "post",
    path: "/me/agents/{agentId}/usage/{metricSlug}/consume",
    tag: "Usage",
    summary: "Consume units (atomic, idempotent by clientReqId)",
    auth: "user",
    body: ConsumeBodySchema,
    response: UsageResultDtoSchema,
    errors: [400, 402, 403, 404, 409, 429],
  },
  {
    method: "post",
    path: "/me/agents/{agentId}/usage/{metricSlug}/release",
    tag: "Usage",
    summary: "Release fixed units (never below zero)",
    auth: "user",
    body: ReleaseBodySchema,
    response: UsageResultDtoSchema,
    errors: [400, 402, 403, 404, 409, 422],
  },
  {
    method: "get",
    path: "/me/agents/{agentId}/usage",
    tag: "Usage",
    summary: "Usage of every metric",
    auth: "user",
    response: list(MetricUsageDtoSchema),
    errors: [402, 404],
  },
  {
    method: "get",
    path: "/me/agents/{agentId}/usage/{metricSlug}",
    tag: "Usage",
    summary: "Usage of one metric",
    auth: "user",
    response: MetricUsageDtoSchema,
    errors: [402, 404],
  },
  {
    method: "post",
    path: "/admin/subscriptions/{subscriptionId}/addons",
    tag: "Admin",
    summary: "Grant an addon",
    auth: "platform_admin",
    body: GrantAddonBodySchema,
    response: AddonDtoSchema,
    status: 201,
  },
  {
    method: "delete",
    path: "/admin/addons/{addonId}",
    tag: "Admin",
    summary: "Revoke an addon",
    auth: "platform_admin",
    response: z.object({ revoked: z.literal(true) }),
  },
  {
    method: "get",
    path: "/admin/users",
    tag: "Admin",
    summary: "Users, cursor-paginated",
    auth: "platform_admin",
    response: list(AdminUserDtoSchema),
  },
];

const jsonSchema = (schema: z.ZodType, io: "input" | "output") =>
  z.toJSONSchema(schema, { io, unrepresentable: "any", target: "openapi-3.0" });

/** The OpenAPI 3.1 document served at `/openapi.json`. */
export function openApiDocument(baseUrl: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) {
    const params = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({
      name: m[1],
      in: "path",
      required: true,
      schema: { type: "string" },
    }));
    const errors = Object.fromEntries(
      [
        ...new Set([
          ...(op.auth === "public" ? [] : [401]),
          ...(op.auth === "platform_admin" ? [403] : []),
          ...(op.errors ?? []),
        ]),
      ].map((s) => [
        String(s),
        {
          description: "Error envelope",
          content: { "application/json": { schema: jsonSchema(ErrorEnvelopeSchema, "output") } },
        },
      ]),
    );
    paths[op.path] ??= {};
    paths[op.path]![op.method] = {
      tags: [op.tag],
      summary: op.summary,
      ...(op.auth === "public" ? { security: [] } : {}),
      ...(params.length ? { parameters: params } : {}),
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { "application/json": { schema: jsonSchema(op.body, "input") } },
            },
          }
        : {}),
      responses: {
        [String(op.status ?? 200)]: {
          description: "Success envelope",
          content: { "application/json": { schema: jsonSchema(successEnvelope(op.response), "output") } },
        },
        ...errors,
      },
      "x-required-role": op.auth,
    };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Agent Marketplace API",
      version: "1.0.0",
      description:
        "Catalog, subscriptions and usage metering. OAuth/OIDC endpoints: see /api/auth/.well-known/openid-configuration.",
    },
    servers: [{ url: baseUrl }],
    components: {
      securitySchemes: {
        bearer: { type: "http", scheme: "bearer", description: "OAuth access token issued to an agent" },
        cookie: { type: "apiKey", in: "cookie", name: "marketplace.session_token" },
      },
    },
    security: [{ bearer: [] }, { cookie: [] }],
    paths,
  };
}
