import type { Db } from "../db/database.ts";
import { auditLog } from "../db/schema.ts";
import { type Actor, currentActor } from "./context.ts";

export interface AuditEntry {
  /** `<target>.<verb>`: `agent.create`, `tier.archive`, `user.ban`, `oauth.revoke`… */
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
  /** Only where the scope cannot know (a better-auth hook names the session's user). */
  actor?: Actor;
}

/**
 * Appends one audit row. Pass the transaction that makes the change, so the
 * change and its record commit or roll back together. The actor and request
 * id come from the audit scope (context.ts).
 */
export async function recordAudit(db: Db, entry: AuditEntry): Promise<void> {
  const { actor, requestId } = currentActor(entry.actor);
  await db.insert(auditLog).values({
    actorId: actor.id,
    actorKind: actor.kind,
    action: entry.action,
    targetType: entry.targetType,
    targetId: entry.targetId,
    before: toJson(entry.before),
    after: toJson(entry.after),
    requestId,
  });
}

/** Rows as JSON (dates as ISO strings); undefined and null are both "nothing". */
const toJson = (value: unknown) => (value == null ? null : JSON.parse(JSON.stringify(value)));
