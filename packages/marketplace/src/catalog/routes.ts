import {
  AgentInputSchema,
  AgentListQuerySchema,
  CheckoutBodySchema,
  CreateMetricBodySchema,
  CreatePricingTierBodySchema,
  SetQuotaBodySchema,
  UpdateMetricBodySchema,
} from "@amp/contract";
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { jsonBody, queryParams } from "../http/validate.ts";
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
} from "../pricing/service.ts";
import { type CheckoutDeps, checkout } from "../subscriptions/service.ts";
import {
  createAgent,
  deactivateAgent,
  findAgent,
  findAgentBySlug,
  LISTED,
  listAgents,
  toAgentDto,
  updateAgent,
} from "./service.ts";

export interface CatalogDeps {
  db: Db;
  payments: Payments | null;
  checkout: CheckoutDeps;
  devCheckout: boolean;
  requireUser: MiddlewareHandler<AppEnv>;
  requireAdmin: MiddlewareHandler<AppEnv>;
}

/**
 * `/agents`: the catalog (public reads, platform-admin writes), each agent's
 * pricing tiers, metric definitions and tier quotas, and checkout.
 */
export function catalogRoutes(deps: CatalogDeps) {
  const { db, requireUser, requireAdmin } = deps;
  const app = new Hono<AppEnv>();
  const isAdmin = (c: { get(key: "principal"): AppEnv["Variables"]["principal"] }) =>
    c.get("principal")?.role === "platform_admin";

  /** An agent as the caller may see it: drafts and inactive agents only for platform admins. */
  const visibleAgent = async (c: Parameters<typeof isAdmin>[0], id: string) => {
    const agent = await findAgent(db, id);
    if (!LISTED.includes(agent.status) && !isAdmin(c)) throw new ApiError("NOT_FOUND", "No such agent.");
    return agent;
  };

  app.get("/", async (c) => {
    const query = queryParams(c, AgentListQuerySchema);
    const includeHidden = query.all === "true";
    if (includeHidden && !isAdmin(c))
      throw new ApiError("FORBIDDEN", "Only platform admins can list every agent.");
    const { page, pagination } = await listAgents(db, { ...query, includeHidden });
    return ok(c, page.map(toAgentDto), 200, pagination);
  });

  app.get("/by-slug/:slug", async (c) =>
    ok(c, toAgentDto(await findAgentBySlug(db, c.req.param("slug"), isAdmin(c)))),
  );
  app.get("/:id", async (c) => ok(c, toAgentDto(await visibleAgent(c, c.req.param("id")))));

  app.post("/", requireAdmin, async (c) => {
    const row = await createAgent(db, await jsonBody(c, AgentInputSchema), c.get("principal")!.userId);
    return ok(
      c,
      { id: row.id, slug: row.slug, oauthClientId: row.oauthClientId, redirectUris: row.redirectUris },
      201,
    );
  });
  app.post("/:id", requireAdmin, async (c) =>
    ok(c, toAgentDto(await updateAgent(db, c.req.param("id"), await jsonBody(c, AgentInputSchema)))),
  );
  app.delete("/:id", requireAdmin, async (c) =>
    ok(c, toAgentDto(await deactivateAgent(db, c.req.param("id")))),
  );

  // Pricing tiers
  app.get("/:agentId/pricing", async (c) => {
    const agent = await visibleAgent(c, c.req.param("agentId"));
    return ok(c, (await listTiers(db, agent.id)).map(toTierDto));
  });
  app.post("/:agentId/pricing", requireAdmin, async (c) => {
    const body = await jsonBody(c, CreatePricingTierBodySchema);
    const tier = await createTier(
      db,
      { payments: deps.payments, devCheckout: deps.devCheckout },
      c.req.param("agentId"),
      body,
    );
    return ok(c, toTierDto(tier), 201);
  });
  app.delete("/:agentId/pricing/:tierId", requireAdmin, async (c) => {
    await archiveTier(db, deps.payments, c.req.param("agentId"), c.req.param("tierId"));
    return ok(c, { archived: true });
  });

  // Quotas
  app.get("/:agentId/pricing/:tierId/quotas", async (c) => {
    const agent = await visibleAgent(c, c.req.param("agentId"));
    return ok(c, await listQuotas(db, agent.id, c.req.param("tierId")));
  });
  app.put("/:agentId/pricing/:tierId/quotas/:metricId", requireAdmin, async (c) => {
    const { quotaLimit } = await jsonBody(c, SetQuotaBodySchema);
    return ok(
      c,
      await setQuota(db, c.req.param("agentId"), c.req.param("tierId"), c.req.param("metricId"), quotaLimit),
    );
  });

  // Checkout
  app.post("/:agentId/pricing/:tierId/checkout", requireUser, async (c) => {
    const { returnUrl } = await jsonBody(c, CheckoutBodySchema);
    const principal = c.get("principal")!;
    const [me] = await db
      .select({ email: user.email })
      .from(user)
      .where(eq(user.id, principal.userId))
      .limit(1);
    if (!me) throw new ApiError("UNAUTHORIZED", "The user no longer exists.");
    const result = await checkout(
      db,
      deps.checkout,
      { id: principal.userId, email: me.email },
      c.req.param("agentId"),
      c.req.param("tierId"),
      returnUrl,
    );
    return ok(c, result, result.status === "active" ? 201 : 200);
  });

  // Metric definitions
  app.get("/:agentId/metrics", async (c) => {
    const agent = await visibleAgent(c, c.req.param("agentId"));
    return ok(c, (await listMetrics(db, agent.id)).map(toMetricDto));
  });
  app.post("/:agentId/metrics", requireAdmin, async (c) => {
    const metric = await createMetric(db, c.req.param("agentId"), await jsonBody(c, CreateMetricBodySchema));
    return ok(c, toMetricDto(metric), 201);
  });
  app.post("/:agentId/metrics/:metricId", requireAdmin, async (c) => {
    const body = await jsonBody(c, UpdateMetricBodySchema);
    return ok(c, toMetricDto(await updateMetric(db, c.req.param("agentId"), c.req.param("metricId"), body)));
  });

  return app;
}
