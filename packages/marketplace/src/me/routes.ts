import { type MeDto, MeDtoSchema, RoleSchema, SCOPES, UpdateMeBodySchema } from "@amp/contract";
import { eq } from "drizzle-orm";
import { hasScope, type Principal } from "../auth/principal.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare } from "../http/route.ts";

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

/** What `GET /me` shows an agent's token: the profile fields its scopes grant, as in the ID token. */
const MeViewSchema = MeDtoSchema.partial({ email: true, name: true, image: true, role: true });

function meView(me: MeDto, principal: Principal) {
  const granted = (scope: string) => hasScope(principal, scope);
  return MeViewSchema.parse({
    id: me.id,
    createdAt: me.createdAt,
    ...(granted(SCOPES.profile) ? { name: me.name, image: me.image } : {}),
    ...(granted(SCOPES.email) ? { email: me.email } : {}),
    ...(granted(SCOPES.role) ? { role: me.role } : {}),
  });
}

/** `GET /me` and `POST /me`: the caller's marketplace profile. */
export function meRoutes(db: Db) {
  const api = apiRouter();
  api.openapi(
    declare({
      tag: "Me",
      method: "get",
      path: "/me",
      summary: "The caller's profile (an agent's token sees the fields its scopes grant)",
      access: "userOrAnyAgent",
      response: MeViewSchema,
    }),
    async (c) => {
      const principal = c.get("principal")!;
      const [row] = await db.select().from(user).where(eq(user.id, principal.userId)).limit(1);
      if (!row) throw new ApiError("NOT_FOUND", "The user no longer exists.");
      return ok(c, meView(toMeDto(row), principal));
    },
  );
  api.openapi(
    declare({
      tag: "Me",
      method: "post",
      path: "/me",
      summary: "Update name or picture",
      access: "user",
      body: UpdateMeBodySchema,
      response: MeDtoSchema,
    }),
    async (c) => {
      const [row] = await db
        .update(user)
        .set({ ...c.req.valid("json"), updatedAt: new Date() })
        .where(eq(user.id, c.get("principal")!.userId))
        .returning();
      if (!row) throw new ApiError("NOT_FOUND", "The user no longer exists.");
      return ok(c, toMeDto(row));
    },
  );
  return api;
}
