import { z } from "zod";
import type { Db } from "../db/database.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare, pathParams } from "../http/route.ts";
import {
  createEndpoint,
  DeliveryDtoSchema,
  deleteEndpoint,
  EndpointDtoSchema,
  EndpointInputSchema,
  EndpointWithSecretDtoSchema,
  listDeliveries,
  listEndpoints,
  RotateInputSchema,
  replay,
  rotateSecret,
} from "./service.ts";

const agentParams = pathParams("agentId");
const endpointParams = pathParams("agentId", "endpointId");
const deliveryParams = pathParams("agentId", "endpointId", "deliveryId");

/**
 * `/agents/{agentId}/webhooks`: an agent's webhook endpoints, their delivery
 * log and replay (docs/agent-events.md). Platform admins register agents, so
 * they manage endpoints too (API, CLI, console).
 */
export function eventRoutes(deps: { db: Db; deployed: boolean }) {
  const { db } = deps;
  const api = apiRouter();
  const tag = "Agent events";

  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/agents/{agentId}/webhooks",
      summary: "The agent's webhook endpoints (secrets are never shown again)",
      access: "admin",
      params: agentParams,
      response: z.array(EndpointDtoSchema),
      errors: [404],
    }),
    async (c) => ok(c, await listEndpoints(db, c.req.valid("param").agentId)),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/agents/{agentId}/webhooks",
      summary: "Add a webhook endpoint; the answer shows its signing secret, once",
      access: "admin",
      params: agentParams,
      body: EndpointInputSchema,
      response: EndpointWithSecretDtoSchema,
      status: 201,
      errors: [404, 409, 422],
    }),
    async (c) =>
      ok(c, await createEndpoint(db, c.req.valid("param").agentId, c.req.valid("json"), deps.deployed), 201),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/agents/{agentId}/webhooks/{endpointId}/rotate",
      summary: "New signing secret (shown once); the previous one keeps signing during the overlap",
      access: "admin",
      params: endpointParams,
      body: RotateInputSchema,
      response: EndpointWithSecretDtoSchema,
      errors: [404],
    }),
    async (c) => {
      const { agentId, endpointId } = c.req.valid("param");
      return ok(c, await rotateSecret(db, agentId, endpointId, c.req.valid("json")));
    },
  );
  api.openapi(
    declare({
      tag,
      method: "delete",
      path: "/agents/{agentId}/webhooks/{endpointId}",
      summary: "Remove a webhook endpoint and its delivery log",
      access: "admin",
      params: endpointParams,
      response: z.object({ deleted: z.literal(true) }),
      errors: [404],
    }),
    async (c) => {
      const { agentId, endpointId } = c.req.valid("param");
      await deleteEndpoint(db, agentId, endpointId);
      return ok(c, { deleted: true as const });
    },
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/agents/{agentId}/webhooks/{endpointId}/deliveries",
      summary: "The endpoint's delivery log, newest first",
      access: "admin",
      params: endpointParams,
      query: z.object({
        limit: z.coerce.number().int().min(1).max(500).default(50),
        status: z.enum(["pending", "delivered", "failed"]).optional(),
      }),
      response: z.array(DeliveryDtoSchema),
      errors: [404],
    }),
    async (c) => {
      const { agentId, endpointId } = c.req.valid("param");
      return ok(c, await listDeliveries(db, agentId, endpointId, c.req.valid("query")));
    },
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/agents/{agentId}/webhooks/{endpointId}/deliveries/{deliveryId}/replay",
      summary: "Deliver the event again (same event id and body; receivers dedupe by id)",
      access: "admin",
      params: deliveryParams,
      response: z.object({ replayed: z.array(z.string()) }),
      errors: [404],
    }),
    async (c) => {
      const { agentId, endpointId, deliveryId } = c.req.valid("param");
      return ok(c, { replayed: await replay(db, agentId, endpointId, deliveryId) });
    },
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/agents/{agentId}/webhooks/{endpointId}/replay-failed",
      summary: "Deliver again every delivery of the endpoint that gave up (oldest first, at most 1,000)",
      access: "admin",
      params: endpointParams,
      response: z.object({ replayed: z.array(z.string()) }),
      errors: [404],
    }),
    async (c) => {
      const { agentId, endpointId } = c.req.valid("param");
      return ok(c, { replayed: await replay(db, agentId, endpointId, "failed") });
    },
  );
  return api;
}
