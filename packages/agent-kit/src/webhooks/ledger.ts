import { PROVIDER_ID } from "../provider.ts";
import type { Query } from "../storage/postgres-sql.ts";

/**
 * What agent-kit remembers of the marketplace's events, in the agent's own
 * database (the storage's): the ids it has applied (deliveries are
 * at-least-once) and, per user, the highest sequence number applied (a
 * delivery older than that is stale: the newer event already carried a newer
 * snapshot). Shared by every process of the agent.
 */
export interface WebhookLedger {
  /**
   * Claims an event: "duplicate" when its id was claimed before, "stale" when
   * a later sequence of the same subject was applied, else "apply" (the id and
   * sequence are now recorded).
   */
  claim(event: {
    id: string;
    sub: string | null;
    sequence: number;
  }): Promise<"apply" | "duplicate" | "stale">;
  /** Undoes a claim whose handler failed, so the marketplace's retry applies it. */
  release(eventId: string): Promise<void>;
  /** The agent's user id of a marketplace subject (the `account` row better-auth keeps), or null. */
  userIdOf(sub: string): Promise<string | null>;
}

/** Event ids are kept this long: past the marketplace's three days of retries, with room for an operator's replay. */
export const EVENT_ID_RETENTION_MS = 30 * 86_400_000;

/**
 * A ledger over SQL (PostgreSQL, PGlite or SQLite: the statements are common
 * SQL; `placeholder` renders the n-th parameter). Its tables are the storage's
 * migrations (storage/schema.ts), created with agent-kit's others.
 */
export function sqlLedger(query: Query, placeholder: (n: number) => string): WebhookLedger {
  const p = placeholder;
  let claims = 0;
  return {
    async claim(event) {
      const now = Date.now();
      const inserted = await query<{ id: string }>(
        `INSERT INTO "agent_kit_webhook_events" ("id", "receivedAt") VALUES (${p(1)}, ${p(2)})
           ON CONFLICT ("id") DO NOTHING RETURNING "id"`,
        [event.id, now],
      );
      if (inserted.rows.length === 0) return "duplicate";
      const advanced = await query<{ sequence: number }>(
        `INSERT INTO "agent_kit_webhook_sequences" ("sub", "sequence") VALUES (${p(1)}, ${p(2)})
           ON CONFLICT ("sub") DO UPDATE SET "sequence" = excluded."sequence"
           WHERE "agent_kit_webhook_sequences"."sequence" <= excluded."sequence"
         RETURNING "sequence"`,
        [event.sub ?? "", event.sequence],
      );
      // Housekeeping now and then: ids older than the retention cannot come back.
      if (++claims % 500 === 0)
        await query(`DELETE FROM "agent_kit_webhook_events" WHERE "receivedAt" < ${p(1)}`, [
          now - EVENT_ID_RETENTION_MS,
        ]);
      return advanced.rows.length === 0 ? "stale" : "apply";
    },
    async release(eventId) {
      // The sequence stays: a retry of this event carries the same number, and "<=" lets it through.
      await query(`DELETE FROM "agent_kit_webhook_events" WHERE "id" = ${p(1)}`, [eventId]);
    },
    async userIdOf(sub) {
      const { rows } = await query<{ userId: string }>(
        `SELECT "userId" FROM "account" WHERE "accountId" = ${p(1)} AND "providerId" = ${p(2)} LIMIT 1`,
        [sub, PROVIDER_ID],
      );
      return rows[0]?.userId ?? null;
    },
  };
}

export const dollarPlaceholder = (n: number) => `$${n}`;
export const questionPlaceholder = (_n: number) => "?";
