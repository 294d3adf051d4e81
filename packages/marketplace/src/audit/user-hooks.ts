import type { BetterAuthOptions } from "better-auth";
import { eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import type { Actor } from "./context.ts";
import { recordAudit } from "./log.ts";

type UserUpdateHooks = NonNullable<
  NonNullable<NonNullable<BetterAuthOptions["databaseHooks"]>["user"]>["update"]
>;
type Endpoint = {
  body?: { userId?: unknown };
  context?: { session?: { user?: { id?: string } } | null };
} | null;

/** The user fields only a platform admin (better-auth's admin plugin) or an operator changes. */
const ADMIN_FIELDS = ["role", "banned", "banReason", "banExpires"] as const;
type AdminState = Partial<Record<(typeof ADMIN_FIELDS)[number], unknown>>;

const pick = (row: Record<string, unknown>): AdminState =>
  Object.fromEntries(ADMIN_FIELDS.filter((k) => k in row).map((k) => [k, row[k] ?? null]));

/**
 * Audits role and ban changes made through better-auth's admin endpoints
 * (`/api/auth/admin/set-role`, `ban-user`, `unban-user`, `update-user`).
 * better-auth runs that UPDATE itself, outside any transaction of ours, so
 * the row is written by its `update.after` hook, right after the change and
 * in the same request; the before-state is read by `update.before`.
 */
export function userAuditHooks(db: Db): UserUpdateHooks {
  const before = new WeakMap<object, AdminState>();
  return {
    before: async (data, ctx) => {
      const endpoint = ctx as Endpoint;
      const userId = typeof endpoint?.body?.userId === "string" ? endpoint.body.userId : null;
      if (!endpoint || !userId || Object.keys(pick(data)).length === 0) return;
      const [row] = await db
        .select({ role: user.role, banned: user.banned })
        .from(user)
        .where(eq(user.id, userId))
        .limit(1);
      if (row) before.set(endpoint, row);
    },
    after: async (updated, ctx) => {
      const changed = pick(updated as Record<string, unknown>);
      const endpoint = ctx as Endpoint;
      const prior = endpoint ? before.get(endpoint) : undefined;
      if (Object.keys(changed).length === 0 || !prior) return;
      const roleChanged = prior.role !== changed.role;
      const banChanged = Boolean(prior.banned) !== Boolean(changed.banned);
      if (!roleChanged && !banChanged) return;
      const sessionUser = endpoint?.context?.session?.user?.id;
      const actor: Actor | undefined = sessionUser ? { id: sessionUser, kind: "user" } : undefined;
      const action = banChanged ? (changed.banned ? "user.ban" : "user.unban") : "user.role";
      await recordAudit(db, {
        action,
        targetType: "user",
        targetId: (updated as { id: string }).id,
        before: prior,
        after: changed,
        ...(actor ? { actor } : {}),
      });
    },
  };
}
