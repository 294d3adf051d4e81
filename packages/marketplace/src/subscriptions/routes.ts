import {
  AddonDtoSchema,
  ChangePlanBodySchema,
  ChangePlanResultSchema,
  GrantAddonBodySchema,
  SubscriptionDtoSchema,
} from "@amp/contract";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare, pathParams } from "../http/route.ts";
import { checkoutUser } from "../users/service.ts";
import { cancelSubscription, changePlan, resumeSubscription } from "./plan-changes.ts";
import {
  type CheckoutDeps,
  getLiveSubscription,
  grantAddon,
  listSubscriptions,
  revokeAddon,
} from "./service.ts";

const agentParams = pathParams("agentId");

/** `/me/subscriptions`: the caller's subscriptions. An agent's token reads only its own agent's. */
export function mySubscriptionRoutes(db: Db, checkoutDeps: CheckoutDeps) {
  const { payments } = checkoutDeps;
  const api = apiRouter();
  const tag = "Subscriptions";
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/me/subscriptions",
      summary: "The caller's subscriptions",
      access: "user",
      response: z.array(SubscriptionDtoSchema),
    }),
    async (c) => ok(c, await listSubscriptions(db, c.get("principal")!.userId)),
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/me/subscriptions/{agentId}",
      summary: "The live (active/trialing) subscription, else 404",
      access: "userOrOwnAgent",
      params: agentParams,
      response: SubscriptionDtoSchema,
      errors: [404],
    }),
    async (c) =>
      ok(c, await getLiveSubscription(db, c.get("principal")!.userId, c.req.valid("param").agentId)),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/me/subscriptions/{agentId}/cancel",
      summary: "Cancel: a paid plan ends at the period end (resumable until then); a free plan ends now",
      access: "user",
      params: agentParams,
      response: SubscriptionDtoSchema,
      errors: [404, 409, 503],
    }),
    async (c) =>
      ok(c, await cancelSubscription(db, payments, c.get("principal")!.userId, c.req.valid("param").agentId)),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/me/subscriptions/{agentId}/resume",
      summary: "Resume: undo a pending cancellation or scheduled plan change",
      access: "user",
      params: agentParams,
      response: SubscriptionDtoSchema,
      errors: [404, 409, 503],
    }),
    async (c) =>
      ok(c, await resumeSubscription(db, payments, c.get("principal")!.userId, c.req.valid("param").agentId)),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/me/subscriptions/{agentId}/plan",
      summary:
        "Change plan: an upgrade acts now (free) or through checkout (paid); paid → free is scheduled for the period end",
      access: "user",
      params: agentParams,
      body: ChangePlanBodySchema,
      response: ChangePlanResultSchema,
      errors: [404, 409, 422, 503],
    }),
    async (c) => {
      const me = await checkoutUser(db, c.get("principal")!.userId);
      const result = await changePlan(
        db,
        checkoutDeps,
        me,
        c.req.valid("param").agentId,
        c.req.valid("json"),
      );
      return ok(c, result);
    },
  );
  return api;
}

/** Platform-admin subscription tools: addons on top of a subscription's quota. */
export function adminSubscriptionRoutes(db: Db) {
  const api = apiRouter();
  api.openapi(
    declare({
      tag: "Admin",
      method: "post",
      path: "/admin/subscriptions/{subscriptionId}/addons",
      summary: "Grant an addon",
      access: "admin",
      params: pathParams("subscriptionId"),
      body: GrantAddonBodySchema,
      response: AddonDtoSchema,
      status: 201,
      errors: [404],
    }),
    async (c) => {
      const granted = await grantAddon(
        db,
        c.req.valid("param").subscriptionId,
        c.req.valid("json"),
        c.get("principal")!.userId,
      );
      return ok(c, granted, 201);
    },
  );
  api.openapi(
    declare({
      tag: "Admin",
      method: "delete",
      path: "/admin/addons/{addonId}",
      summary: "Revoke an addon",
      access: "admin",
      params: pathParams("addonId"),
      response: z.object({ revoked: z.literal(true) }),
      errors: [404],
    }),
    async (c) => {
      await revokeAddon(db, c.req.valid("param").addonId);
      return ok(c, { revoked: true });
    },
  );
  return api;
}
