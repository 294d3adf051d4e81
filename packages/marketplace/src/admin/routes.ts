import { AdminUserDtoSchema, PageQuerySchema } from "@amp/contract";
import { asc, gt } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare } from "../http/route.ts";
import { toMeDto } from "../me/routes.ts";

/** Platform-admin views. `GET /admin/users`: every account, cursor-paginated by id. */
export function adminRoutes(db: Db) {
  const api = apiRouter();
  api.openapi(
    declare({
      tag: "Admin",
      method: "get",
      path: "/admin/users",
      summary: "Users, cursor-paginated",
      access: "admin",
      query: PageQuerySchema,
      response: z.array(AdminUserDtoSchema),
    }),
    async (c) => {
      const { cursor, limit } = c.req.valid("query");
      const rows = await db
        .select()
        .from(user)
        .where(cursor ? gt(user.id, cursor) : undefined)
        .orderBy(asc(user.id))
        .limit(limit + 1);
      const page = rows.slice(0, limit);
      const hasMore = rows.length > limit;
      return ok(
        c,
        page.map((row) => AdminUserDtoSchema.parse({ ...toMeDto(row), banned: row.banned ?? false })),
        200,
        { cursor: hasMore ? (page.at(-1)?.id ?? null) : null, hasMore, limit },
      );
    },
  );
  return api;
}
