import {
  AgentDtoSchema,
  AgentInputSchema,
  AgentListQuerySchema,
  AgentPatchSchema,
  CheckoutBodySchema,
  CheckoutResultSchema,
  CreatedAgentDtoSchema,
  CreateMetricBodySchema,
  CreatePricingTierBodySchema,
  MetricDefinitionDtoSchema,
  PricingTierDtoSchema,
  QuotaDtoSchema,
  SetQuotaBodySchema,
  UpdateMetricBodySchema,
  UpdatePricingTierBodySchema,
} from "@amp/contract";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { isAdmin } from "../auth/principal.ts";
import type { Db } from "../db/database.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare, pathParams } from "../http/route.ts";
import type { Payments } from "../payments/payments.ts";
import {
  archiveTier,
  createMetric,
  createTier,
  listMetrics,
  listQuotas,
  listTiers,
  setQuota,
  toMetricDto,
  toTierDto,
  updateMetric,
  updateTier,
} from "../pricing/service.ts";
import { type CheckoutDeps, checkout } from "../subscriptions/service.ts";
import { checkoutUser } from "../users/service.ts";
import {
  createAgent,
  deactivateAgent,
  findAgent,
  findAgentBySlug,
  LISTED,
  listAgents,
  patchAgent,
  toAgentDto,
  updateAgent,
} from "./service.ts";

export interface CatalogDeps {
  db: Db;
  payments: Payments | null;
  checkout: CheckoutDeps;
  devCheckout: boolean;
}

const callerIsAdmin = (c: Context<AppEnv>) => {
  const principal = c.get("principal");
  return principal !== null && isAdmin(principal);
};

const agentParams = pathParams("agentId");
const tierParams = pathParams("agentId", "tierId");

/**
 * `/agents`: the catalog (public reads, platform-admin writes), each agent's
 * pricing tiers, metric definitions and tier quotas, and checkout.
 */
export function catalogRoutes(deps: CatalogDeps) {
  const { db } = deps;
  const api = apiRouter();

  /** An agent as the caller may see it: drafts and inactive agents only for platform admins. */
  const visibleAgent = async (c: Context<AppEnv>, id: string) => {
    const agent = await findAgent(db, id);
    if (!LISTED.includes(agent.status) && !callerIsAdmin(c))
      throw new ApiError("NOT_FOUND", "No such agent.");
    return agent;
  };

  const catalog = { tag: "Catalog" } as const;
  api.openapi(
    declare({
      ...catalog,
      method: "get",
      path: "/agents",
      summary: "List agents (active and coming soon; `all=true` for admins)",
      access: "public",
      query: AgentListQuerySchema,
      response: z.array(AgentDtoSchema),
      errors: [403],
    }),
    async (c) => {
      const query = c.req.valid("query");
      const includeHidden = query.all === "true";
      if (includeHidden && !callerIsAdmin(c))
        throw new ApiError("FORBIDDEN", "Only platform admins can list every agent.");
      const { page, pagination } = await listAgents(db, { ...query, includeHidden });
      return ok(c, page.map(toAgentDto), 200, pagination);
    },
  );
  api.openapi(
    declare({
      ...catalog,
      method: "get",
      path: "/agents/by-slug/{slug}",
      summary: "An agent by slug",
      access: "public",
      params: pathParams("slug"),
      response: AgentDtoSchema,
      errors: [404],
    }),
    async (c) => ok(c, toAgentDto(await findAgentBySlug(db, c.req.valid("param").slug, callerIsAdmin(c)))),
  );
  api.openapi(
    declare({
      ...catalog,
      method: "get",
      path: "/agents/{agentId}",
      summary: "An agent by id",
      access: "public",
      params: agentParams,
      response: AgentDtoSchema,
      errors: [404],
    }),
    async (c) => ok(c, toAgentDto(await visibleAgent(c, c.req.valid("param").agentId))),
  );
  api.openapi(
    declare({
      ...catalog,
      method: "post",
      path: "/agents",
      summary: "Register an agent and its OAuth client",
      access: "admin",
      body: AgentInputSchema,
      response: CreatedAgentDtoSchema,
      status: 201,
      errors: [409],
    }),
    async (c) => {
      const row = await createAgent(db, c.req.valid("json"), c.get("principal")!.userId);
      const { id, slug, oauthClientId, redirectUris } = row;
      return ok(c, { id, slug, oauthClientId, redirectUris }, 201);
    },
  );
  api.openapi(
    declare({
      ...catalog,
      method: "post",
      path: "/agents/{agentId}",
      summary: "Full update (omitted optional fields reset to defaults; prefer PATCH)",
      access: "admin",
      params: agentParams,
      body: AgentInputSchema,
      response: AgentDtoSchema,
      errors: [404, 409, 422],
    }),
    async (c) => ok(c, toAgentDto(await updateAgent(db, c.req.valid("param").agentId, c.req.valid("json")))),
  );
  api.openapi(
    declare({
      ...catalog,
      method: "patch",
      path: "/agents/{agentId}",
      summary: "Partial update: only the fields sent change (status transitions too)",
      access: "admin",
      params: agentParams,
      body: AgentPatchSchema,
      response: AgentDtoSchema,
      errors: [404, 409, 422],
    }),
    async (c) => ok(c, toAgentDto(await patchAgent(db, c.req.valid("param").agentId, c.req.valid("json")))),
  );
  api.openapi(
    declare({
      ...catalog,
      method: "delete",
      path: "/agents/{agentId}",
      summary: "Deactivate (client disabled)",
      access: "admin",
      params: agentParams,
      response: AgentDtoSchema,
      errors: [404],
    }),
    async (c) => ok(c, toAgentDto(await deactivateAgent(db, c.req.valid("param").agentId))),
  );

  const pricing = { tag: "Pricing" } as const;
  api.openapi(
    declare({
      ...pricing,
      method: "get",
      path: "/agents/{agentId}/pricing",
      summary: "Pricing tiers",
      access: "public",
      params: agentParams,
      response: z.array(PricingTierDtoSchema),
      errors: [404],
    }),
    async (c) => {
      const agent = await visibleAgent(c, c.req.valid("param").agentId);
      return ok(c, (await listTiers(db, agent.id)).map(toTierDto));
    },
  );
  api.openapi(
    declare({
      ...pricing,
      method: "post",
      path: "/agents/{agentId}/pricing",
      summary: "Create a tier (paid: Stripe product + price)",
      access: "admin",
      params: agentParams,
      body: CreatePricingTierBodySchema,
      response: PricingTierDtoSchema,
      status: 201,
      errors: [404, 409, 503],
    }),
    async (c) => {
      const settings = { payments: deps.payments, devCheckout: deps.devCheckout };
      const tier = await createTier(db, settings, c.req.valid("param").agentId, c.req.valid("json"));
      return ok(c, toTierDto(tier), 201);
    },
  );
  api.openapi(
    declare({
      ...pricing,
      method: "patch",
      path: "/agents/{agentId}/pricing/{tierId}",
      summary: "Edit a tier's presentation (price terms are immutable)",
      access: "admin",
      params: tierParams,
      body: UpdatePricingTierBodySchema,
      response: PricingTierDtoSchema,
      errors: [404],
    }),
    async (c) => {
      const { agentId, tierId } = c.req.valid("param");
      return ok(c, toTierDto(await updateTier(db, agentId, tierId, c.req.valid("json"))));
    },
  );
  api.openapi(
    declare({
      ...pricing,
      method: "delete",
      path: "/agents/{agentId}/pricing/{tierId}",
      summary: "Archive a tier",
      access: "admin",
      params: tierParams,
      response: z.object({ archived: z.literal(true) }),
      errors: [404],
    }),
    async (c) => {
      const { agentId, tierId } = c.req.valid("param");
      await archiveTier(db, deps.payments, agentId, tierId);
      return ok(c, { archived: true });
    },
  );
  api.openapi(
    declare({
      ...pricing,
      method: "get",
      path: "/agents/{agentId}/pricing/{tierId}/quotas",
      summary: "A tier's quotas",
      access: "public",
      params: tierParams,
      response: z.array(QuotaDtoSchema),
      errors: [404],
    }),
    async (c) => {
      const { agentId, tierId } = c.req.valid("param");
      const agent = await visibleAgent(c, agentId);
      return ok(c, await listQuotas(db, agent.id, tierId));
    },
  );
  api.openapi(
    declare({
      ...pricing,
      method: "put",
      path: "/agents/{agentId}/pricing/{tierId}/quotas/{metricId}",
      summary: "Set a quota (null unlimited, 0 deny)",
      access: "admin",
      params: pathParams("agentId", "tierId", "metricId"),
      body: SetQuotaBodySchema,
      response: QuotaDtoSchema,
      errors: [404],
    }),
    async (c) => {
      const { agentId, tierId, metricId } = c.req.valid("param");
      return ok(c, await setQuota(db, agentId, tierId, metricId, c.req.valid("json").quotaLimit));
    },
  );

  api.openapi(
    declare({
      tag: "Subscriptions",
      method: "post",
      path: "/agents/{agentId}/pricing/{tierId}/checkout",
      summary: "Subscribe: free at once, paid via checkout",
      access: "user",
      params: tierParams,
      body: CheckoutBodySchema,
      response: CheckoutResultSchema,
      errors: [404, 409, 422, 503],
    }),
    async (c) => {
      const me = await checkoutUser(db, c.get("principal")!.userId);
      const { agentId, tierId } = c.req.valid("param");
      const { returnUrl } = c.req.valid("json");
      const result = await checkout(db, deps.checkout, me, agentId, tierId, returnUrl);
      return ok(c, result, result.status === "active" ? 201 : 200);
    },
  );

  const metrics = { tag: "Metrics" } as const;
  api.openapi(
    declare({
      ...metrics,
      method: "get",
      path: "/agents/{agentId}/metrics",
      summary: "Metric definitions",
      access: "public",
      params: agentParams,
      response: z.array(MetricDefinitionDtoSchema),
      errors: [404],
    }),
    async (c) => {
      const agent = await visibleAgent(c, c.req.valid("param").agentId);
      return ok(c, (await listMetrics(db, agent.id)).map(toMetricDto));
    },
  );
  api.openapi(
    declare({
      ...metrics,
      method: "post",
      path: "/agents/{agentId}/metrics",
      summary: "Define a metric",
      access: "admin",
      params: agentParams,
      body: CreateMetricBodySchema,
      response: MetricDefinitionDtoSchema,
      status: 201,
      errors: [404, 409],
    }),
    async (c) => {
      const metric = await createMetric(db, c.req.valid("param").agentId, c.req.valid("json"));
      return ok(c, toMetricDto(metric), 201);
    },
  );
  api.openapi(
    declare({
      ...metrics,
      method: "post",
      path: "/agents/{agentId}/metrics/{metricId}",
      summary: "Relabel a metric (slug and kind are immutable)",
      access: "admin",
      params: pathParams("agentId", "metricId"),
      body: UpdateMetricBodySchema,
      response: MetricDefinitionDtoSchema,
      errors: [404],
    }),
    async (c) => {
      const { agentId, metricId } = c.req.valid("param");
      return ok(c, toMetricDto(await updateMetric(db, agentId, metricId, c.req.valid("json"))));
    },
  );

  return api;
}
