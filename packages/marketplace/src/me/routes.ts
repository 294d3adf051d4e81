import { type MeDto, MeDtoSchema, RoleSchema, UpdateMeBodySchema } from "@amp/contract";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import type { AuthVariables } from "../auth/middleware.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { jsonBody } from "../http/validate.ts";

type UserRow = typeof user.$inferSelect;

export const toMeDto = (row: UserRow): MeDto =>
  MeDtoSchema.parse({
    id: row.id,
    email: row.email,
    name: row.name,
    image: row.image,
    role: RoleSchema.catch("org_member").parse(row.role),
    createdAt: row.createdAt.toISOString(),
  });

/** `GET /me` and `POST /me`: the caller's marketplace profile. */
export function meRoutes(db: Db) {
  const app = new Hono<{ Variables: AuthVariables & { requestId: string } }>();

  app.get("/", async (c) => {
    const rows = await db
      .select()
      .from(user)
      .where(eq(user.id, c.get("principal")!.userId))
      .limit(1);
    if (!rows[0]) throw new ApiError("NOT_FOUND", "The user no longer exists.");
    return ok(c, toMeDto(rows[0]));
  });

  app.post("/", async (c) => {
    const body = await jsonBody(c, UpdateMeBodySchema);
    const rows = await db
      .update(user)
      .set({ ...body, updatedAt: new Date() })
      .where(eq(user.id, c.get("principal")!.userId))
      .returning();
    if (!rows[0]) throw new ApiError("NOT_FOUND", "The user no longer exists.");
    return ok(c, toMeDto(rows[0]));
  });

  return app;
}
