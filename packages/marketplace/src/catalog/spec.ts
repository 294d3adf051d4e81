import { AgentInputSchema, CreateMetricBodySchema, CreatePricingTierBodySchema } from "@amp/contract";
import { and, eq, isNull } from "drizzle-orm";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { agents, metricDefinitions, pricingTiers, webhookEndpoints } from "../db/schema.ts";
import { createEndpoint, EndpointInputSchema } from "../events/service.ts";
import { fieldErrors } from "../http/validate.ts";
import type { Payments } from "../payments/payments.ts";
import { createMetric, createTier, setQuota } from "../pricing/service.ts";
import { createAgent, updateAgent } from "./service.ts";

/**
 * An agent registration file (`marketplace register-agent <file>`): the agent,
 * its metrics, and its tiers with per-metric quotas (`null` unlimited, `0`
 * deny, omitted = deny). Built from the contract's own body schemas.
 */
export const AgentSpecSchema = z.strictObject({
  agent: AgentInputSchema,
  metrics: z.array(CreateMetricBodySchema).default([]),
  tiers: z
    .array(
      z.intersection(
        CreatePricingTierBodySchema,
        z.object({ quotas: z.record(z.string(), z.number().int().min(0).nullable()).default({}) }),
      ),
    )
    .default([]),
  /** Webhook endpoints (docs/agent-events.md): added when missing; a new one's secret is printed once. */
  webhooks: z.array(EndpointInputSchema).default([]),
});
export type AgentSpec = z.input<typeof AgentSpecSchema>;

export class SpecError extends Error {}

export function parseSpec(text: string, fileName: string) {
  let raw: unknown;
  try {
    raw = fileName.endsWith(".json") ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new SpecError(
      `${fileName} is not valid ${fileName.endsWith(".json") ? "JSON" : "YAML"}: ${(error as Error).message}`,
    );
  }
  const parsed = AgentSpecSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = fieldErrors(parsed.error).map((e) => `  ${e.field}: ${e.constraints.join("; ")}`);
    throw new SpecError(`${fileName} is not a valid agent registration:\n${lines.join("\n")}`);
  }
  return parsed.data;
}

/**
 * Registers (or, for an existing slug, brings up to date) an agent with its
 * metrics, tiers and quotas. Idempotent: running it twice changes nothing.
 */
export async function applySpec(
  db: Db,
  deps: { payments: Payments | null; devCheckout: boolean; deployed?: boolean },
  spec: Omit<z.output<typeof AgentSpecSchema>, "webhooks"> & {
    webhooks?: z.output<typeof EndpointInputSchema>[];
  },
  createdBy: string | null,
) {
  const [existing] = await db.select().from(agents).where(eq(agents.slug, spec.agent.slug)).limit(1);
  const agent = existing
    ? await updateAgent(db, existing.id, spec.agent)
    : await createAgent(db, spec.agent, createdBy);

  const metricIds = new Map<string, string>();
  for (const metric of spec.metrics) {
    const [found] = await db
      .select()
      .from(metricDefinitions)
      .where(and(eq(metricDefinitions.agentId, agent.id), eq(metricDefinitions.slug, metric.slug)));
    if (found && found.kind !== metric.kind) {
      throw new SpecError(`metric "${metric.slug}" is ${found.kind}; the kind of a metric cannot change`);
    }
    metricIds.set(metric.slug, (found ?? (await createMetric(db, agent.id, metric))).id);
  }

  for (const { quotas, ...tierInput } of spec.tiers) {
    const [found] = await db
      .select()
      .from(pricingTiers)
      .where(
        and(
          eq(pricingTiers.agentId, agent.id),
          eq(pricingTiers.tierName, tierInput.tierName),
          isNull(pricingTiers.archivedAt),
        ),
      );
    const tier = found ?? (await createTier(db, deps, agent.id, tierInput));
    for (const [slug, limit] of Object.entries(quotas)) {
      const metricId = metricIds.get(slug);
      if (!metricId)
        throw new SpecError(`tier "${tierInput.tierName}" sets a quota for unknown metric "${slug}"`);
      await setQuota(db, agent.id, tier.id, metricId, limit);
    }
  }

  const newWebhooks: { url: string; id: string; secret: string }[] = [];
  for (const endpoint of spec.webhooks ?? []) {
    const [found] = await db
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.agentId, agent.id), eq(webhookEndpoints.url, endpoint.url)));
    if (found) continue;
    const created = await createEndpoint(db, agent.id, endpoint, deps.deployed ?? true);
    newWebhooks.push({ url: created.url, id: created.id, secret: created.secret });
  }
  return Object.assign(agent, { newWebhooks });
}
