import {
  AdminSubscriptionDetailDtoSchema,
  AdminSubscriptionDtoSchema,
  AdminSubscriptionQuerySchema,
  AdminUsageQuerySchema,
  AdminUsageRowDtoSchema,
  AdminUserDtoSchema,
  AdminUserQuerySchema,
  BanUserBodySchema,
  SetRoleBodySchema,
  StripeEventDtoSchema,
  StripeEventQuerySchema,
  StripeReplayResultSchema,
} from "@amp/contract";
import type { KeyedLocks } from "@amp/db";
import { and, desc, eq, lt, or, type SQL } from "drizzle-orm";
import { z } from "zod";
import { recordAudit } from "../audit/log.ts";
import type { Auth } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
import { stripeEvents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare, pathParams } from "../http/route.ts";
import type { StripeWebhooks } from "../stripe/webhooks.ts";
import type { UsageService } from "../usage/service.ts";
import { searchSubscriptions, searchUsage, subscriptionDetail } from "./subscriptions.ts";
import { AdminUsers, searchUsers } from "./users.ts";

export interface AdminDeps {
  db: Db;
  auth: Auth;
  usage: UsageService;
  webhooks: StripeWebhooks;
  locks: KeyedLocks;
}

const toStripeEventDto = (row: typeof stripeEvents.$inferSelect) =>
  StripeEventDtoSchema.parse({
    ...row,
    eventCreatedAt: row.eventCreatedAt.toISOString(),
    receivedAt: row.receivedAt.toISOString(),
    processedAt: row.processedAt?.toISOString() ?? null,
  });

/**
 * The operator console's API (platform admins): users (search, role, ban),
 * subscriptions and usage across users, Stripe events with replay. Changes
 * are audited by the services they call.
 */
export function adminRoutes(deps: AdminDeps) {
  const { db } = deps;
  const users = new AdminUsers(db, deps.auth);
  const api = apiRouter();
  const tag = "Admin";
  const userParams = pathParams("userId");

  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/admin/users",
      summary: "Users: search by email or name, filter by role or ban; cursor-paginated",
      access: "admin",
      query: AdminUserQuerySchema,
      response: z.array(AdminUserDtoSchema),
    }),
    async (c) => {
      const { page, pagination } = await searchUsers(db, c.req.valid("query"));
      return ok(c, page, 200, pagination);
    },
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/admin/users/{userId}/role",
      summary: "Set a user's role (a promotion to platform_admin ends their sessions)",
      access: "admin",
      params: userParams,
      body: SetRoleBodySchema,
      response: AdminUserDtoSchema,
      errors: [404, 422],
    }),
    async (c) =>
      ok(
        c,
        await users.setRole(
          c.get("principal")!.userId,
          c.req.valid("param").userId,
          c.req.valid("json").role,
        ),
      ),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/admin/users/{userId}/ban",
      summary: "Ban a user: sessions end, tokens stop working",
      access: "admin",
      params: userParams,
      body: BanUserBodySchema,
      response: AdminUserDtoSchema,
      errors: [404, 422],
    }),
    async (c) =>
      ok(c, await users.ban(c.get("principal")!.userId, c.req.valid("param").userId, c.req.valid("json"))),
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/admin/users/{userId}/unban",
      summary: "Lift a ban",
      access: "admin",
      params: userParams,
      response: AdminUserDtoSchema,
      errors: [404],
    }),
    async (c) => ok(c, await users.unban(c.req.valid("param").userId)),
  );

  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/admin/subscriptions",
      summary: "Subscriptions across users: by subscriber email, agent, status; newest first",
      access: "admin",
      query: AdminSubscriptionQuerySchema,
      response: z.array(AdminSubscriptionDtoSchema),
    }),
    async (c) => {
      const { page, pagination } = await searchSubscriptions(db, c.req.valid("query"));
      return ok(c, page, 200, pagination);
    },
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/admin/subscriptions/{subscriptionId}",
      summary: "One subscription with its addons and usage",
      access: "admin",
      params: pathParams("subscriptionId"),
      response: AdminSubscriptionDetailDtoSchema,
      errors: [404],
    }),
    async (c) => ok(c, await subscriptionDetail(db, deps.usage, c.req.valid("param").subscriptionId)),
  );
  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/admin/usage",
      summary: "Usage across users: live subscriptions with usage per metric",
      access: "admin",
      query: AdminUsageQuerySchema,
      response: z.array(AdminUsageRowDtoSchema),
    }),
    async (c) => {
      const { page, pagination } = await searchUsage(db, deps.usage, c.req.valid("query"));
      return ok(c, page, 200, pagination);
    },
  );

  api.openapi(
    declare({
      tag,
      method: "get",
      path: "/admin/stripe/events",
      summary: "Stripe events received (status, type, error), newest first",
      access: "admin",
      query: StripeEventQuerySchema,
      response: z.array(StripeEventDtoSchema),
    }),
    async (c) => {
      const q = c.req.valid("query");
      let before: SQL | undefined;
      if (q.cursor) {
        const [at] = await db
          .select({ receivedAt: stripeEvents.receivedAt, id: stripeEvents.id })
          .from(stripeEvents)
          .where(eq(stripeEvents.id, q.cursor));
        if (!at) throw new ApiError("BAD_REQUEST", "The cursor is not one this endpoint returned.");
        before = or(
          lt(stripeEvents.receivedAt, at.receivedAt),
          and(eq(stripeEvents.receivedAt, at.receivedAt), lt(stripeEvents.id, at.id)),
        );
      }
      const rows = await db
        .select()
        .from(stripeEvents)
        .where(
          and(
            q.status ? eq(stripeEvents.status, q.status) : undefined,
            q.type ? eq(stripeEvents.type, q.type) : undefined,
            before,
          ),
        )
        .orderBy(desc(stripeEvents.receivedAt), desc(stripeEvents.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const hasMore = rows.length > q.limit;
      return ok(c, page.map(toStripeEventDto), 200, {
        cursor: hasMore ? (page.at(-1)?.id ?? null) : null,
        hasMore,
        limit: q.limit,
      });
    },
  );
  api.openapi(
    declare({
      tag,
      method: "post",
      path: "/admin/stripe/events/{eventId}/replay",
      summary: "Re-run processing of one stored event (an already processed one is left alone)",
      access: "admin",
      params: pathParams("eventId"),
      response: StripeReplayResultSchema,
      errors: [404],
    }),
    async (c) => {
      const { eventId } = c.req.valid("param");
      const result = await deps.webhooks.replay(eventId, deps.locks);
      if (!result) throw new ApiError("NOT_FOUND", "No such Stripe event.");
      await recordAudit(db, {
        action: "stripe.replay",
        targetType: "stripe_event",
        targetId: eventId,
        after: { replayed: result.replayed, status: result.event.status, error: result.event.error },
      });
      return ok(c, { replayed: result.replayed, event: toStripeEventDto(result.event) });
    },
  );
  return api;
}
