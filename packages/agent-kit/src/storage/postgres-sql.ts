import { PROVIDER_ID } from "../provider.ts";
import { POSTGRES_MIGRATIONS } from "./schema.ts";
import type { AccountStore, StoredAccount } from "./types.ts";

/** One query on some PostgreSQL session: a pg Pool or client, PGlite or a PGlite transaction. */
export type Query = <R>(text: string, params?: unknown[]) => Promise<{ rows: R[] }>;

/** The account row's reads and writes in PostgreSQL's dialect (shared by the `pg` and PGlite storages). */
export function postgresAccounts(query: Query): AccountStore {
  return {
    async read(userId) {
      const { rows } = await query<StoredAccount & { accessTokenExpiresAt: Date | string | null }>(
        `SELECT "accountId", "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt"
           FROM "account" WHERE "userId" = $1 AND "providerId" = $2 LIMIT 1`,
        [userId, PROVIDER_ID],
      );
      const row = rows[0];
      if (!row) return null;
      return {
        ...row,
        accessTokenExpiresAt: row.accessTokenExpiresAt ? new Date(row.accessTokenExpiresAt) : null,
      };
    },
    async saveTokens(userId, t) {
      await query(
        `UPDATE "account" SET "accessToken" = $1, "refreshToken" = coalesce($2, "refreshToken"),
                "idToken" = coalesce($3, "idToken"), "accessTokenExpiresAt" = $4, "updatedAt" = now()
          WHERE "userId" = $5 AND "providerId" = $6`,
        [t.accessToken, t.refreshToken, t.idToken, t.accessTokenExpiresAt, userId, PROVIDER_ID],
      );
    },
    async clearTokens(userId) {
      await query(
        `UPDATE "account" SET "accessToken" = NULL, "refreshToken" = NULL, "accessTokenExpiresAt" = NULL,
                "updatedAt" = now()
          WHERE "userId" = $1 AND "providerId" = $2`,
        [userId, PROVIDER_ID],
      );
    },
  };
}

/** A fixed-window counter: one atomic upsert per hit, windows aligned on the database's clock. */
export function postgresThrottle(query: Query) {
  let hits = 0;
  return async (key: string, windowSeconds: number) => {
    const { rows } = await query<{ count: number; retryAfter: number }>(
      `INSERT INTO "agent_kit_throttle" AS t ("key", "windowStart", "count")
       VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
       ON CONFLICT ("key") DO UPDATE SET
         "count" = CASE WHEN t."windowStart" = EXCLUDED."windowStart" THEN t."count" + 1 ELSE 1 END,
         "windowStart" = EXCLUDED."windowStart"
       RETURNING "count", ceil(extract(epoch FROM "windowStart") + $2 - extract(epoch FROM now()))::int AS "retryAfter"`,
      [key, windowSeconds],
    );
    // Now and then, forget windows that ended (one statement, no background timer to manage).
    if (++hits % 500 === 0) {
      await query(
        `DELETE FROM "agent_kit_throttle" WHERE "windowStart" < now() - make_interval(secs => $1)`,
        [windowSeconds],
      );
    }
    return rows[0]!;
  };
}

/** The advisory-lock key of a name (64-bit, the same in every process). */
export const ADVISORY_KEY = "hashtextextended($1, 0)";

/**
 * Applies the migrations not yet recorded in `agent_kit_migrations`, inside one transaction that holds a
 * transaction-level advisory lock, so processes starting together apply each exactly once. Every statement
 * is `IF NOT EXISTS`, so a database whose tables an earlier agent-kit created is adopted as it is.
 */
export async function migratePostgres(
  transaction: (
    run: (query: Query, exec: (sql: string) => Promise<unknown>) => Promise<void>,
  ) => Promise<void>,
) {
  await transaction(async (query, exec) => {
    await query(`SELECT pg_advisory_xact_lock(${ADVISORY_KEY})`, ["agent-kit:migrate"]);
    await exec(
      `CREATE TABLE IF NOT EXISTS "agent_kit_migrations" ("id" text PRIMARY KEY, "appliedAt" timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await query<{ id: string }>(`SELECT "id" FROM "agent_kit_migrations"`);
    const applied = new Set(rows.map((r) => r.id));
    for (const migration of POSTGRES_MIGRATIONS) {
      if (applied.has(migration.id)) continue;
      await exec(migration.sql);
      await query(`INSERT INTO "agent_kit_migrations" ("id") VALUES ($1)`, [migration.id]);
    }
  });
}
