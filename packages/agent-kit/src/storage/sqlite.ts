import { randomUUID } from "node:crypto";
import type { DatabaseSync } from "node:sqlite";
import { NodeSqliteDialect } from "@better-auth/kysely-adapter/node-sqlite-dialect";
import { CompiledQuery, Kysely } from "kysely";
import { PROVIDER_ID } from "../provider.ts";
import { questionPlaceholder, sqlLedger } from "../webhooks/ledger.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { SQLITE_MIGRATIONS } from "./schema.ts";
import {
  type AccountStore,
  type AgentKitStorage,
  StorageLockTimeoutError,
  type StoredAccount,
} from "./types.ts";

/**
 * How long a refresh lease is good for. A holder that crashes stops blocking others after this; a live
 * holder is done long before (a refresh is one token request: `requestTimeoutMs`, at most twice).
 */
export const LEASE_MS = 30_000;

const isBusy = (error: unknown) =>
  /SQLITE_BUSY|database is locked/i.test(
    `${(error as { code?: string })?.code} ${(error as Error)?.message}`,
  );

/**
 * agent-kit's storage on SQLite through Node's built-in `node:sqlite` (no native addon). Pass your
 * `DatabaseSync`; agent-kit never closes it. better-auth and agent-kit share one Kysely instance over it, so
 * their statements take turns on the one connection and never land inside each other's transactions.
 *
 * The refresh lock: the in-process single flight (a named mutex), then a lease row claimed in a short
 * `BEGIN IMMEDIATE` transaction, which SQLite serialises across every process on the file. The write lock is
 * never held across the network call (that would stall every other writer, and with `DatabaseSync`, block
 * the waiting process's event loop); a lease left by a crashed process expires after LEASE_MS.
 *
 * @example
 * import { DatabaseSync } from "node:sqlite";
 * import { sqliteStorage } from "@amp/agent-kit/sqlite";
 * const storage = sqliteStorage(new DatabaseSync("agent.db"));
 */
export function sqliteStorage(database: DatabaseSync): AgentKitStorage {
  const kysely = new Kysely({ dialect: new NodeSqliteDialect({ database }) });
  const query = async <R>(text: string, params: unknown[] = []) =>
    (await kysely.executeQuery<R>(CompiledQuery.raw(text, params))) as { rows: R[] };
  /** Runs synchronous work with the shared connection to itself (no other statement can interleave). */
  const exclusive = <T>(fn: () => T): Promise<T> => kysely.connection().execute(async () => fn());
  const locks = new KeyedMutex();
  let hits = 0;

  const accounts: AccountStore = {
    async read(userId) {
      const { rows } = await query<StoredAccount & { accessTokenExpiresAt: string | number | null }>(
        `SELECT "accountId", "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt"
           FROM "account" WHERE "userId" = ? AND "providerId" = ? LIMIT 1`,
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
      // better-auth keeps dates on SQLite as ISO-8601 text; so does this.
      await query(
        `UPDATE "account" SET "accessToken" = ?, "refreshToken" = coalesce(?, "refreshToken"),
                "idToken" = coalesce(?, "idToken"), "accessTokenExpiresAt" = ?, "updatedAt" = ?
          WHERE "userId" = ? AND "providerId" = ?`,
        [
          t.accessToken,
          t.refreshToken,
          t.idToken,
          t.accessTokenExpiresAt.toISOString(),
          new Date().toISOString(),
          userId,
          PROVIDER_ID,
        ],
      );
    },
    async clearTokens(userId) {
      await query(
        `UPDATE "account" SET "accessToken" = NULL, "refreshToken" = NULL, "accessTokenExpiresAt" = NULL,
                "updatedAt" = ?
          WHERE "userId" = ? AND "providerId" = ?`,
        [new Date().toISOString(), userId, PROVIDER_ID],
      );
    },
  };

  /** One short write transaction; SQLITE_BUSY (another process writing) is retried without blocking. */
  async function immediate<T>(fn: () => T, deadline: number): Promise<T> {
    for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
      try {
        return await exclusive(() => {
          database.exec("BEGIN IMMEDIATE");
          try {
            const result = fn();
            database.exec("COMMIT");
            return result;
          } catch (error) {
            if (database.isTransaction) database.exec("ROLLBACK");
            throw error;
          }
        });
      } catch (error) {
        if (!isBusy(error) || Date.now() + wait > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, wait));
      }
    }
  }

  return {
    kind: "sqlite",
    authDatabase: { db: kysely, type: "sqlite", transaction: true },
    accounts,
    webhooks: sqlLedger(query, questionPlaceholder),
    async throttle(key, windowSeconds) {
      const now = Date.now() / 1000;
      const windowStart = Math.floor(now / windowSeconds) * windowSeconds;
      const { rows } = await query<{ count: number }>(
        `INSERT INTO "agent_kit_throttle" ("key", "windowStart", "count") VALUES (?, ?, 1)
         ON CONFLICT ("key") DO UPDATE SET
           "count" = CASE WHEN "windowStart" = excluded."windowStart" THEN "count" + 1 ELSE 1 END,
           "windowStart" = excluded."windowStart"
         RETURNING "count"`,
        [key, windowStart],
      );
      if (++hits % 500 === 0)
        await query(`DELETE FROM "agent_kit_throttle" WHERE "windowStart" < ?`, [
          windowStart - windowSeconds,
        ]);
      return {
        count: Number(rows[0]!.count),
        retryAfter: Math.max(1, Math.ceil(windowStart + windowSeconds - now)),
      };
    },
    async migrate() {
      await immediate(() => {
        database.exec(
          `CREATE TABLE IF NOT EXISTS "agent_kit_migrations" ("id" text PRIMARY KEY, "appliedAt" text NOT NULL)`,
        );
        const applied = new Set(
          database
            .prepare(`SELECT "id" FROM "agent_kit_migrations"`)
            .all()
            .map((r) => String(r.id)),
        );
        for (const migration of SQLITE_MIGRATIONS) {
          if (applied.has(migration.id)) continue;
          database.exec(migration.sql);
          database
            .prepare(`INSERT INTO "agent_kit_migrations" ("id", "appliedAt") VALUES (?, ?)`)
            .run(migration.id, new Date().toISOString());
        }
      }, Date.now() + 30_000);
    },
    withLock(key, timeoutMs, fn) {
      return locks.run(key, timeoutMs, async () => {
        const deadline = Date.now() + timeoutMs;
        const holder = randomUUID();
        for (let wait = 10; ; wait = Math.min(wait * 2, 200)) {
          const claimed = await immediate(() => {
            const now = Date.now();
            const { changes } = database
              .prepare(
                `INSERT INTO "agent_kit_lock" ("key", "holder", "expiresAt") VALUES (?, ?, ?)
                 ON CONFLICT ("key") DO UPDATE SET "holder" = excluded."holder", "expiresAt" = excluded."expiresAt"
                 WHERE "agent_kit_lock"."expiresAt" <= ?`,
              )
              .run(key, holder, now + LEASE_MS, now);
            return Number(changes) === 1;
          }, deadline);
          if (claimed) break;
          if (Date.now() + wait > deadline)
            throw new StorageLockTimeoutError(`Waited ${timeoutMs} ms for the lock ${key}`);
          await new Promise((resolve) => setTimeout(resolve, wait));
        }
        try {
          return await fn(accounts);
        } finally {
          await query(`DELETE FROM "agent_kit_lock" WHERE "key" = ? AND "holder" = ?`, [key, holder]);
        }
      });
    },
  };
}
