import {
  ConsumeBodySchema,
  MetricUsageDtoSchema,
  ReleaseBodySchema,
  UsageResultDtoSchema,
} from "@amp/contract";
import type { Context } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare, pathParams } from "../http/route.ts";
import type { UsageService } from "./service.ts";

const metricParams = pathParams("agentId", "metricSlug");

/**
 * `/me/agents/:agentId/usage`: consume, release and read usage. Consume and
 * release are the agent's act: only a token issued to that agent may call
 * them (declared `ownAgent`). Reads are open to the user's session too.
 */
export function usageRoutes(usage: UsageService) {
  const api = apiRouter();
  const tag = "Usage";
  const markReplay = (c: Context<AppEnv>, replayed: boolean) => {
    if (replayed) c.header("Idempotent-Replayed", "true");
  };

  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/me/agents/{agentId}/usage/{metricSlug}/consume",
      summary: "Consume units (atomic, idempotent by clientReqId)",
      access: "ownAgent",
      params: metricParams,
      body: ConsumeBodySchema,
      response: UsageResultDtoSchema,
      errors: [402, 404, 409, 429],
    }),
    async (c) => {
      const { userId, tokenHash } = c.get("principal")!;
      const target = { userId, tokenHash, ...c.req.valid("param") };
      const { result, replayed } = await usage.consume(target, c.req.valid("json"));
      markReplay(c, replayed);
      return ok(c, result);
    },
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/me/agents/{agentId}/usage/{metricSlug}/release",
      summary: "Release fixed units (never below zero)",
      access: "ownAgent",
      params: metricParams,
      body: ReleaseBodySchema,
      response: UsageResultDtoSchema,
      errors: [402, 404, 409, 422],
    }),
    async (c) => {
      const { userId, tokenHash } = c.get("principal")!;
      const target = { userId, tokenHash, ...c.req.valid("param") };
      const { result, replayed } = await usage.release(target, c.req.valid("json"));
      markReplay(c, replayed);
      return ok(c, result);
    },
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/me/agents/{agentId}/usage",
      summary: "Usage of every metric",
      access: "userOrOwnAgent",
      params: pathParams("agentId"),
      response: z.array(MetricUsageDtoSchema),
      errors: [402, 404],
    }),
    async (c) => ok(c, await usage.usage(c.get("principal")!.userId, c.req.valid("param").agentId)),
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/me/agents/{agentId}/usage/{metricSlug}",
      summary: "Usage of one metric",
      access: "userOrOwnAgent",
      params: metricParams,
      response: MetricUsageDtoSchema,
      errors: [402, 404],
    }),
    async (c) => {
      const { agentId, metricSlug } = c.req.valid("param");
      return ok(c, (await usage.usage(c.get("principal")!.userId, agentId, metricSlug))[0]);
    },
  );
  return api;
}
