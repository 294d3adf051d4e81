import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/log.ts";
import { type Auth, CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
import { interactions, user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";

/** Operator actions (CLI, seeding) come from this machine; naming it keeps the rate limiter out of the shared bucket. */
export const OPERATOR_HEADERS = new Headers({ [CLIENT_IP_HEADER]: "127.0.0.1" });

/** The signed-in caller as checkout needs it (Stripe's customer email); 401 if the account is gone. */
export async function checkoutUser(db: Db, userId: string): Promise<{ id: string; email: string }> {
  const [me] = await db.select({ email: user.email }).from(user).where(eq(user.id, userId)).limit(1);
  if (!me) throw new ApiError("UNAUTHORIZED", "The user no longer exists.");
  return { id: userId, email: me.email };
}

/** Records the contract's `user_signup` interaction for a new user. */
export async function recordSignup(db: Db, created: { id: string; email: string }) {
  await db.insert(interactions).values({ userId: created.id, type: "user_signup", metadata: {} });
}

/** `create-admin` met an account it may not take over without `--promote`. */
export class ExistingAccountError extends Error {
  override name = "ExistingAccountError";
}

export interface AdminResult {
  id: string;
  email: string;
  outcome: "created" | "promoted" | "unchanged";
  /** The password given was set on an existing account (only with `promote`). */
  passwordSet: boolean;
  /** Sessions of the account that were revoked on promotion. */
  sessionsRevoked: boolean;
}

/**
 * Creates a platform admin. An account that already exists with that email
 * may have been registered by anyone, so it is promoted only when the
 * operator says so (`promote`); its password is kept unless one is given,
 * and its sessions are revoked, so nobody keeps a session (or an agent's
 * token bound to one) that was opened before the account became an admin.
 * An existing platform admin is left as it is unless `promote` asks to set
 * its password, which keeps `seed-demo` idempotent.
 */
export async function ensureAdmin(
  auth: Auth,
  db: Db,
  input: { email: string; password?: string; name?: string; promote?: boolean },
): Promise<AdminResult> {
  const email = input.email.toLowerCase();
  const [existing] = await db
    .select({ id: user.id, role: user.role })
    .from(user)
    .where(eq(user.email, email))
    .limit(1);
  if (!existing) {
    if (!input.password) throw new ExistingAccountError("a new admin account needs --password");
    const created = await auth.api.signUpEmail({
      body: { email, password: input.password, name: input.name ?? "Platform admin" },
      headers: OPERATOR_HEADERS,
    });
    await makeAdmin(db, created.user.id);
    return { id: created.user.id, email, outcome: "created", passwordSet: false, sessionsRevoked: false };
  }
  const isAdmin = existing.role === "platform_admin";
  if (!input.promote) {
    if (isAdmin)
      return { id: existing.id, email, outcome: "unchanged", passwordSet: false, sessionsRevoked: false };
    throw new ExistingAccountError(
      `an account with ${email} already exists and is not a platform admin; anyone may have registered it. ` +
        "Re-run with --promote to make it an admin (its sessions are revoked; its password is kept unless --password is given).",
    );
  }
  const ctx = await auth.$context;
  if (input.password) {
    const hash = await ctx.password.hash(input.password);
    const credential = await ctx.internalAdapter.findCredentialAccount(existing.id);
    if (credential) await ctx.internalAdapter.updatePassword(existing.id, hash);
    else
      await ctx.internalAdapter.linkAccount({
        userId: existing.id,
        providerId: "credential",
        accountId: existing.id,
        password: hash,
      });
  }
  await makeAdmin(db, existing.id);
  await ctx.internalAdapter.deleteUserSessions(existing.id);
  return {
    id: existing.id,
    email,
    outcome: isAdmin ? "unchanged" : "promoted",
    passwordSet: Boolean(input.password),
    sessionsRevoked: true,
  };
}

/** The role change and its audit row, in one transaction; an admin already is one and records nothing. */
async function makeAdmin(db: Db, userId: string) {
  await db.transaction(async (tx) => {
    const [before] = await tx.select({ role: user.role }).from(user).where(eq(user.id, userId)).for("update");
    if (!before || before.role === "platform_admin") return;
    await tx.update(user).set({ role: "platform_admin", updatedAt: new Date() }).where(eq(user.id, userId));
    await recordAudit(tx, {
      action: "user.role",
      targetType: "user",
      targetId: userId,
      before,
      after: { role: "platform_admin" },
    });
  });
}
