import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { PGlite } from "@electric-sql/pglite";
import pg from "pg";
import { testDatabase } from "../../../marketplace/test/support/database.ts";
import { pgliteStorage } from "../../src/storage/pglite.ts";
import { postgresStorage } from "../../src/storage/postgres.ts";
import { sqliteStorage } from "../../src/storage/sqlite.ts";
import type { AgentKitStorage } from "../../src/storage/types.ts";

export type StorageKind = "postgres" | "pglite" | "sqlite";

/** A storage of one kind on a fresh database, with raw SQL access for assertions. */
export interface TestStore {
  kind: StorageKind;
  storage: AgentKitStorage;
  /** Raw SQL; `$1`-style parameters on every kind. */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<R[]>;
  /** Another storage on the same database, as a second agent process would open it (PGlite: the same one). */
  second(): Promise<{ storage: AgentKitStorage; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** The suites' default: PostgreSQL when TEST_DATABASE_URL is set (a fresh database), else in-memory PGlite. */
export const defaultKind = (): StorageKind => (process.env.TEST_DATABASE_URL ? "postgres" : "pglite");

export async function testStore(kind: StorageKind = defaultKind()): Promise<TestStore> {
  if (kind === "postgres") {
    if (!process.env.TEST_DATABASE_URL) throw new Error("the postgres storage needs TEST_DATABASE_URL");
    const target = await testDatabase();
    const url = target.env.DATABASE_URL!;
    // As node-postgres asks of every pool: an idle client losing its connection (the drop at the end) must not crash.
    const newPool = () => new pg.Pool({ connectionString: url, max: 10 }).on("error", () => {});
    const pool = newPool();
    return {
      kind,
      storage: postgresStorage(pool),
      query: async (sql, params) => (await pool.query(sql, params)).rows,
      async second() {
        const other = newPool();
        return { storage: postgresStorage(other), close: () => other.end() };
      },
      async close() {
        await pool.end();
        await target.drop();
      },
    };
  }
  if (kind === "pglite") {
    const pglite = await PGlite.create();
    const storage = pgliteStorage(pglite);
    return {
      kind,
      storage,
      query: async (sql, params) => (await pglite.query<never>(sql, params)).rows,
      second: async () => ({ storage, close: async () => {} }),
      close: () => pglite.close(),
    };
  }
  const dir = mkdtempSync(join(tmpdir(), "agent-kit-sqlite-"));
  const file = join(dir, "agent.db");
  const db = new DatabaseSync(file);
  const opened = [db];
  return {
    kind,
    storage: sqliteStorage(db),
    query: async (sql, params = []) => {
      const statement = db.prepare(sql.replace(/\$\d+/g, "?"));
      const values = params as never[];
      if (statement.columns().length) return statement.all(...values) as never;
      statement.run(...values);
      return [];
    },
    async second() {
      const other = new DatabaseSync(file);
      opened.push(other);
      return { storage: sqliteStorage(other), close: async () => other.close() };
    },
    async close() {
      for (const d of opened) if (d.isOpen) d.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
