import { AdminUserDtoSchema, PageQuerySchema } from "@amp/contract";
import { asc, gt } from "drizzle-orm";
import { Hono } from "hono";
import type { AuthVariables } from "../auth/middleware.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ok } from "../http/envelope.ts";
import { queryParams } from "../http/validate.ts";
import { toMeDto } from "../me/routes.ts";

/** Platform-admin views. `GET /admin/users`: every account, cursor-paginated by id. */
export function adminRoutes(db: Db) {
  const app = new Hono<{ Variables: AuthVariables & { requestId: string } }>();
  app.get("/users", async (c) => {
    const { cursor, limit } = queryParams(c, PageQuerySchema);
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
  });
  return app;
}
