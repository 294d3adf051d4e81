import { MeDtoSchema, RoleSchema } from "@amp/contract";
import { eq } from "drizzle-orm";
import { Hono } from "hono";
import type { AuthVariables } from "../auth/middleware.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";

/** `GET /me`: the caller's marketplace profile. */
export function meRoutes(db: Db) {
  const app = new Hono<{ Variables: AuthVariables & { requestId: string } }>();
  app.get("/", async (c) => {
    const principal = c.get("principal")!;
    const rows = await db.select().from(user).where(eq(user.id, principal.userId)).limit(1);
    const row = rows[0];
    if (!row) throw new ApiError("NOT_FOUND", "The user no longer exists.");
    return ok(
      c,
      MeDtoSchema.parse({
        id: row.id,
        email: row.email,
        name: row.name,
        image: row.image,
        role: RoleSchema.catch("org_member").parse(row.role),
        createdAt: row.createdAt.toISOString(),
      }),
    );
  });
  return app;
}
