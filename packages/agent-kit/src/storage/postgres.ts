import type { Pool, PoolClient } from "pg";
import { dollarPlaceholder, sqlLedger } from "../webhooks/ledger.ts";
import {
  ADVISORY_KEY,
  migratePostgres,
  postgresAccounts,
  postgresThrottle,
  type Query,
} from "./postgres-sql.ts";
import { type AgentKitStorage, StorageLockTimeoutError } from "./types.ts";

const asQuery =
  (runner: Pool | PoolClient): Query =>
  async <R>(text: string, params?: unknown[]) =>
    (await runner.query(text, params)) as unknown as { rows: R[] };

/**
 * agent-kit's storage on PostgreSQL through a node-postgres `Pool` (yours; agent-kit never ends it).
 * better-auth gets the same pool. The refresh lock is a session-level advisory lock held on one pooled
 * connection, which then also serves the locked work, so a full pool cannot deadlock against itself.
 *
 * @example
 * import pg from "pg";
 * import { postgresStorage } from "@amp/agent-kit/postgres";
 * const storage = postgresStorage(new pg.Pool({ connectionString: process.env.DATABASE_URL }));
 */
export function postgresStorage(pool: Pool): AgentKitStorage {
  const query = asQuery(pool);
  return {
    kind: "postgres",
    authDatabase: pool,
    accounts: postgresAccounts(query),
    throttle: postgresThrottle(query),
    webhooks: sqlLedger(query, dollarPlaceholder),
    async migrate() {
      const client = await pool.connect();
      try {
        await migratePostgres(async (run) => {
          await client.query("BEGIN");
          try {
            await run(asQuery(client), (sql) => client.query(sql));
            await client.query("COMMIT");
          } catch (error) {
            await client.query("ROLLBACK").catch(() => undefined);
            throw error;
          }
        });
      } finally {
        client.release();
      }
    },
    async withLock(key, timeoutMs, fn) {
      const client = await pool.connect();
      let broken = false;
      try {
        // lock_timeout bounds the wait for the advisory lock (SET LOCAL needs a transaction; this is per session).
        await client.query(`SELECT set_config('lock_timeout', $1, false)`, [`${timeoutMs}ms`]);
        try {
          await client.query(`SELECT pg_advisory_lock(${ADVISORY_KEY})`, [key]);
        } catch (error) {
          if ((error as { code?: string }).code === "55P03")
            throw new StorageLockTimeoutError(`Waited ${timeoutMs} ms for the lock ${key}`);
          throw error;
        } finally {
          await client.query(`SELECT set_config('lock_timeout', '0', false)`);
        }
        try {
          return await fn(postgresAccounts(asQuery(client)));
        } finally {
          await client.query(`SELECT pg_advisory_unlock(${ADVISORY_KEY})`, [key]).catch((error: unknown) => {
            // A connection that cannot unlock is destroyed rather than returned holding the lock.
            broken = true;
            throw error;
          });
        }
      } finally {
        client.release(broken);
      }
    },
  };
}
