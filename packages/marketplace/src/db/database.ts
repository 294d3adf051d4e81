import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { type Dialect, PostgresDialect } from "kysely";
import pg from "pg";
import { PgliteDialect } from "./pglite-dialect.ts";
import * as schema from "./schema.ts";

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

/** Minimal SQL surface shared by both drivers (used by migrations and health checks). */
export interface SqlClient {
  query<R = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  /** Runs `fn` with exclusive use of one session (PGlite: the only one; pg: a pooled client). */
  withSession<T>(fn: (session: SqlClient) => Promise<T>): Promise<T>;
}

export interface Database {
  kind: "pglite" | "postgres";
  db: Db;
  sql: SqlClient;
  /** Kysely dialect for better-auth, over the same connection(s). */
  authDialect: Dialect;
  close(): Promise<void>;
}

export type DatabaseTarget = { url: string } | { dataDir: string } | { memory: true };

/** Opens PGlite (a data directory, or in memory) or a node-postgres pool. */
export async function openDatabase(
  target: DatabaseTarget,
  opts: { poolSize?: number } = {},
): Promise<Database> {
  if ("url" in target) return openPostgres(target.url, opts.poolSize ?? 10);
  if ("dataDir" in target) mkdirSync(target.dataDir, { recursive: true });
  const pglite = await PGlite.create("dataDir" in target ? { dataDir: target.dataDir } : {});
  // PGlite has one backend, so "a session of one's own" means taking turns.
  let turn: Promise<unknown> = Promise.resolve();
  const sql: SqlClient = {
    query: async (text, params) => pglite.query(text, params),
    withSession: (fn) => {
      const mine = turn.then(() => fn(sql));
      turn = mine.catch(() => undefined);
      return mine;
    },
  };
  return {
    kind: "pglite",
    db: drizzlePglite(pglite, { schema }) as unknown as Db,
    sql,
    authDialect: new PgliteDialect(pglite),
    close: async () => {
      if (!pglite.closed) await pglite.close();
    },
  };
}

function openPostgres(url: string, max: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5_000,
    idleTimeoutMillis: 30_000,
    // A statement that runs this long is stuck; fail it so the request can answer 503.
    statement_timeout: 10_000,
  });
  // An idle client losing its server connection must not crash the process.
  pool.on("error", () => {});
  const sql: SqlClient = {
    query: async <R>(text: string, params?: unknown[]) =>
      (await pool.query(text, params)) as unknown as { rows: R[] },
    withSession: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn({
          query: async <R>(text: string, params?: unknown[]) =>
            (await client.query(text, params)) as unknown as { rows: R[] },
          withSession: (inner) => inner(sql),
        });
      } finally {
        client.release();
      }
    },
  };
  return {
    kind: "postgres",
    db: drizzlePg(pool, { schema }) as unknown as Db,
    sql,
    authDialect: new PostgresDialect({ pool }),
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}
