import { mkdirSync } from "node:fs";
import { PGlite } from "@electric-sql/pglite";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { type Dialect, PostgresDialect } from "kysely";
import pg from "pg";
import { lockDataDir } from "./data-dir-lock.ts";
import { type KeyedLocks, postgresLocks, processLocks } from "./keyed-locks.ts";
import { listenPglite, listenPostgres, type Subscription, type Unlisten } from "./listen.ts";
import { PgliteDialect } from "./pglite-dialect.ts";

/** A Drizzle database over either driver, typed by its schema. */
export type DrizzleDb<S extends Record<string, unknown>> = PgDatabase<PgQueryResultHKT, S>;

/** Minimal SQL surface shared by both drivers (migrations, health checks, hot-path functions, locks). */
export interface SqlClient {
  /** `name` makes it a prepared statement on PostgreSQL (parsed and planned once per connection). */
  query<R = Record<string, unknown>>(sql: string, params?: unknown[], name?: string): Promise<{ rows: R[] }>;
  /** Runs `fn` with exclusive use of one session (PGlite: taking turns on the only one; pg: a pooled client). */
  withSession<T>(fn: (session: SqlClient) => Promise<T>): Promise<T>;
}

export interface Connection {
  kind: "pglite" | "postgres";
  sql: SqlClient;
  /** The driver underneath, for libraries that take one directly (agent-kit's storage). */
  driver: { kind: "pglite"; pglite: PGlite } | { kind: "postgres"; pool: pg.Pool };
  /** Kysely dialect for better-auth, over the same connection(s). */
  authDialect: Dialect;
  /** A Drizzle instance over the same connection(s). */
  drizzle<S extends Record<string, unknown>>(schema: S): DrizzleDb<S>;
  /** Named locks that hold across every process on this database. */
  locks: KeyedLocks;
  /** LISTEN on a channel for as long as the connection is open (or until unlistened). */
  listen(channel: string, subscription: Subscription): Promise<Unlisten>;
  /** The pool's connections right now (node-postgres); null for PGlite, which has one backend and no pool. */
  poolStats(): PoolStats | null;
  close(): Promise<void>;
}

export interface PoolStats {
  /** Connections open (in use + idle). */
  total: number;
  idle: number;
  /** Queries queued for a connection. */
  waiting: number;
  max: number;
}

/**
 * PGlite's own start parameters, plus a 16 MB buffer pool instead of PostgreSQL's 128 MB: the pool lives in the
 * process's WebAssembly memory, and an embedded database reads through the operating system's file cache anyway.
 * Measured on the demo's data directory: RSS after opening and 2,000 queries 361 → 220–233 MB per process
 * (issue 13). Passed as `-c` on the command line, so no postgresql.conf is rewritten.
 */
const PGLITE_START_PARAMS = [...PGlite.defaultStartParams, "-c", "shared_buffers=16MB"];

export type DatabaseTarget = { url: string } | { dataDir: string } | { memory: true };

/** Opens PGlite (a data directory, or in memory) or a node-postgres pool. */
export async function connect(target: DatabaseTarget, opts: { poolSize?: number } = {}): Promise<Connection> {
  if ("url" in target) return connectPostgres(target.url, opts.poolSize ?? 10);
  if ("dataDir" in target) mkdirSync(target.dataDir, { recursive: true });
  // PGlite is one process per data directory; a second opener would write where nobody reads (see data-dir-lock.ts).
  const unlock = "dataDir" in target ? lockDataDir(target.dataDir) : () => {};
  let pglite: PGlite;
  try {
    pglite = await PGlite.create({
      ...("dataDir" in target ? { dataDir: target.dataDir } : {}),
      startParams: PGLITE_START_PARAMS,
    });
  } catch (error) {
    unlock();
    throw error;
  }
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
  const listeners = new Set<Unlisten>();
  return {
    kind: "pglite",
    sql,
    driver: { kind: "pglite", pglite },
    authDialect: new PgliteDialect(pglite),
    drizzle: (schema) => drizzlePglite(pglite, { schema }) as unknown as DrizzleDb<typeof schema>,
    locks: processLocks(),
    listen: async (channel, subscription) =>
      track(listeners, await listenPglite(pglite, channel, subscription)),
    poolStats: () => null,
    close: async () => {
      try {
        await Promise.all([...listeners].map((unlisten) => unlisten()));
        if (!pglite.closed) await pglite.close();
      } finally {
        unlock();
      }
    },
  };
}

function connectPostgres(url: string, max: number): Connection {
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
    // A name makes it a prepared statement: parsed and planned once per connection, then only bound.
    query: async <R>(text: string, params?: unknown[], name?: string) =>
      (await (name ? pool.query({ name, text, values: params }) : pool.query(text, params))) as unknown as {
        rows: R[];
      },
    withSession: async (fn) => {
      const client = await pool.connect();
      try {
        return await fn({
          query: async <R>(text: string, params?: unknown[], name?: string) =>
            (await (name
              ? client.query({ name, text, values: params })
              : client.query(text, params))) as unknown as {
              rows: R[];
            },
          withSession: (inner) => inner(sql),
        });
      } finally {
        client.release();
      }
    },
  };
  const locks = postgresLocks(url, Math.max(2, Math.ceil(max / 2)));
  const listeners = new Set<Unlisten>();
  return {
    kind: "postgres",
    sql,
    driver: { kind: "postgres", pool },
    authDialect: new PostgresDialect({ pool }),
    drizzle: (schema) => drizzlePg(pool, { schema }) as unknown as DrizzleDb<typeof schema>,
    locks,
    listen: async (channel, subscription) =>
      track(listeners, await listenPostgres(url, channel, subscription)),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount, max }),
    close: async () => {
      await Promise.all([...listeners].map((unlisten) => unlisten()));
      await locks.close();
      if (!pool.ended) await pool.end();
    },
  };
}

function track(listeners: Set<Unlisten>, unlisten: Unlisten): Unlisten {
  const tracked: Unlisten = async () => {
    listeners.delete(tracked);
    await unlisten();
  };
  listeners.add(tracked);
  return tracked;
}
