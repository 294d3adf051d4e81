import { type AdminUserDto, AdminUserDtoSchema, type Role } from "@amp/contract";
import { and, asc, eq, gt, ilike, isNull, or, type SQL } from "drizzle-orm";
import { recordAudit } from "../audit/log.ts";
import type { Auth } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { toMeDto } from "../me/routes.ts";
import { escapeLike } from "./search.ts";

type UserRow = typeof user.$inferSelect;

export const toAdminUserDto = (row: UserRow): AdminUserDto =>
  AdminUserDtoSchema.parse({ ...toMeDto(row), banned: row.banned ?? false });

/** `GET /admin/users`: search by email or name, filter by role and ban, cursor-paginated by id. */
export async function searchUsers(
  db: Db,
  q: { q?: string; role?: Role; banned?: "true" | "false"; cursor?: string; limit: number },
) {
  const where: (SQL | undefined)[] = [
    q.q ? or(ilike(user.email, `%${escapeLike(q.q)}%`), ilike(user.name, `%${escapeLike(q.q)}%`)) : undefined,
    q.role ? eq(user.role, q.role) : undefined,
    q.banned === "true" ? eq(user.banned, true) : undefined,
    q.banned === "false" ? or(eq(user.banned, false), isNull(user.banned)) : undefined,
    q.cursor ? gt(user.id, q.cursor) : undefined,
  ];
  const rows = await db
    .select()
    .from(user)
    .where(and(...where))
    .orderBy(asc(user.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const hasMore = rows.length > q.limit;
  return {
    page: page.map(toAdminUserDto),
    pagination: { cursor: hasMore ? (page.at(-1)?.id ?? null) : null, hasMore, limit: q.limit },
  };
}

/**
 * Role and ban changes go through better-auth's own internal API (the admin
 * plugin's endpoints do the same: `internalAdapter.updateUser`, then
 * `deleteUserSessions` on a ban), so the user row, its sessions and the
 * bearer-cache notification (migrations/0009) behave exactly as with the
 * plugin; but they accept an admin client's token too, and refuse an admin
 * locking themselves out. Each change is audited here.
 */
export class AdminUsers {
  constructor(
    private readonly db: Db,
    private readonly auth: Auth,
  ) {}

  private async find(userId: string): Promise<UserRow> {
    const [row] = await this.db.select().from(user).where(eq(user.id, userId)).limit(1);
    if (!row) throw new ApiError("NOT_FOUND", "No such user.");
    return row;
  }

  async setRole(actorId: string, userId: string, role: Role): Promise<AdminUserDto> {
    const before = await this.find(userId);
    if (userId === actorId && role !== "platform_admin")
      throw new ApiError("UNPROCESSABLE_ENTITY", "You cannot remove your own platform_admin role.");
    if (before.role === role) return toAdminUserDto(before);
    const ctx = await this.auth.$context;
    await ctx.internalAdapter.updateUser(userId, { role });
    // As with `create-admin --promote`: no session opened before the promotion keeps admin power.
    if (role === "platform_admin") await ctx.internalAdapter.deleteUserSessions(userId);
    const after = await this.find(userId);
    await recordAudit(this.db, {
      action: "user.role",
      targetType: "user",
      targetId: userId,
      before: { role: before.role },
      after: { role: after.role },
    });
    return toAdminUserDto(after);
  }

  async ban(
    actorId: string,
    userId: string,
    input: { reason?: string; expiresInSeconds?: number },
  ): Promise<AdminUserDto> {
    if (userId === actorId) throw new ApiError("UNPROCESSABLE_ENTITY", "You cannot ban yourself.");
    const before = await this.find(userId);
    const ctx = await this.auth.$context;
    await ctx.internalAdapter.updateUser(userId, {
      banned: true,
      banReason: input.reason ?? null,
      banExpires: input.expiresInSeconds ? new Date(Date.now() + input.expiresInSeconds * 1000) : null,
    });
    // Signed-in browsers lose their sessions; agent tokens stop at the bearer check (banned users are refused).
    await ctx.internalAdapter.deleteUserSessions(userId);
    const after = await this.find(userId);
    await recordAudit(this.db, {
      action: "user.ban",
      targetType: "user",
      targetId: userId,
      before: { banned: before.banned ?? false, banReason: before.banReason, banExpires: before.banExpires },
      after: { banned: true, banReason: after.banReason, banExpires: after.banExpires },
    });
    return toAdminUserDto(after);
  }

  async unban(userId: string): Promise<AdminUserDto> {
    const before = await this.find(userId);
    if (!before.banned) return toAdminUserDto(before);
    const ctx = await this.auth.$context;
    await ctx.internalAdapter.updateUser(userId, { banned: false, banReason: null, banExpires: null });
    const after = await this.find(userId);
    await recordAudit(this.db, {
      action: "user.unban",
      targetType: "user",
      targetId: userId,
      before: { banned: true, banReason: before.banReason },
      after: { banned: false },
    });
    return toAdminUserDto(after);
  }
}
