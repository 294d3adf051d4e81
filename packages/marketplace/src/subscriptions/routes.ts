import { GrantAddonBodySchema } from "@amp/contract";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { Db } from "../db/database.ts";
import { ok } from "../http/envelope.ts";
import { jsonBody } from "../http/validate.ts";
import type { Payments } from "../payments/payments.ts";
import { cancel, getLiveSubscription, grantAddon, listSubscriptions, revokeAddon } from "./service.ts";

/** `/me/subscriptions`: the caller's subscriptions. */
export function mySubscriptionRoutes(db: Db, payments: Payments | null) {
  const app = new Hono<AppEnv>();
  app.get("/", async (c) => ok(c, await listSubscriptions(db, c.get("principal")!.userId)));
  app.get("/:agentId", async (c) =>
    ok(c, await getLiveSubscription(db, c.get("principal")!.userId, c.req.param("agentId"))),
  );
  app.post("/:agentId/cancel", async (c) =>
    ok(c, await cancel(db, payments, c.get("principal")!.userId, c.req.param("agentId"))),
  );
  return app;
}

/** Platform-admin subscription tools: addons on top of a subscription's quota. */
export function adminSubscriptionRoutes(db: Db) {
  const app = new Hono<AppEnv>();
  app.post("/subscriptions/:subscriptionId/addons", async (c) => {
    const body = await jsonBody(c, GrantAddonBodySchema);
    return ok(c, await grantAddon(db, c.req.param("subscriptionId"), body, c.get("principal")!.userId), 201);
  });
  app.delete("/addons/:addonId", async (c) => {
    await revokeAddon(db, c.req.param("addonId"));
    return ok(c, { revoked: true });
  });
  return app;
}
