import { eq } from "drizzle-orm";
import { recordAudit } from "../audit/log.ts";
import { type Auth, CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
import { interactions, user } from "../db/schema.ts";

/** Operator actions (CLI, seeding) come from this machine; naming it keeps the rate limiter out of the shared bucket. */
export const OPERATOR_HEADERS = new Headers({ [CLIENT_IP_HEADER]: "127.0.0.1" });

/** Records the contract's `user_signup` interaction for a new user. */
export async function recordSignup(db: Db, created: { id: string; email: string }) {
  await db.insert(interactions).values({ userId: created.id, type: "user_signup", metadata: {} });
}

/**
 * Creates a platform admin, or promotes an existing account with that email.
 * Idempotent, so `seed-demo` and operators can run it repeatedly.
 */
export async function ensureAdmin(
  auth: Auth,
  db: Db,
  input: { email: string; password: string; name?: string },
) {
  const email = input.email.toLowerCase();
  const existing = await db.select({ id: user.id }).from(user).where(eq(user.email, email)).limit(1);
  let id = existing[0]?.id;
  if (!id) {
    const created = await auth.api.signUpEmail({
      body: { email, password: input.password, name: input.name ?? "Platform admin" },
      headers: OPERATOR_HEADERS,
    });
    id = created.user.id;
  }
  const userId = id;
  await db.transaction(async (tx) => {
    const [before] = await tx.select({ role: user.role }).from(user).where(eq(user.id, userId)).for("update");
    if (before?.role === "platform_admin") return;
    await tx.update(user).set({ role: "platform_admin", updatedAt: new Date() }).where(eq(user.id, userId));
    await recordAudit(tx, {
      action: "user.role",
      targetType: "user",
      targetId: userId,
      before,
      after: { role: "platform_admin" },
    });
  });
  return { id, email, created: !existing[0] };
}
