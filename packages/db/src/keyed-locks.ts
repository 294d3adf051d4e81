import { AsyncLocalStorage } from "node:async_hooks";
import pg from "pg";

/** Takes a named lock; it is held until the enclosing `hold` settles. Re-taking a held name is a no-op. */
export type TakeLock = (name: string) => Promise<void>;

/**
 * Named mutual exclusion for work that spans several statements on other
 * connections (a token exchange, a signing-key creation).
 *
 * On PostgreSQL the locks are transaction-scoped advisory locks held on a
 * session of their own, so they serialise every instance on the database and
 * vanish with the session if the process dies. PGlite is opened by one
 * process at a time, so an in-process queue per name gives the same guarantee.
 * Callers that take several names must take them in one fixed order.
 *
 * `hold` is re-entrant: work already inside a `hold` (a token exchange that
 * has to create the first signing key, say) takes further names on the same
 * session instead of waiting for a second one, which could never come if
 * every session were held by such exchanges.
 */
export interface KeyedLocks {
  hold<T>(fn: (lock: TakeLock) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** Runs `fn` inside the enclosing `hold` when there is one still open, else opens one. */
function reentrant(open: <T>(fn: (lock: TakeLock) => Promise<T>) => Promise<T>): KeyedLocks["hold"] {
  const current = new AsyncLocalStorage<{ lock: TakeLock; open: boolean }>();
  return (fn) => {
    const outer = current.getStore();
    if (outer?.open) return fn(outer.lock);
    return open(async (lock) => {
      const scope = { lock, open: true };
      try {
        return await current.run(scope, () => fn(lock));
      } finally {
        // Work started inside but still running afterwards must not use a finished session.
        scope.open = false;
      }
    });
  };
}

/** In-process named locks (PGlite: one process per data directory). */
export function processLocks(): KeyedLocks {
  const tails = new Map<string, Promise<void>>();
  return {
    hold: reentrant(async (fn) => {
      const held = new Map<string, { release: () => void; tail: Promise<void> }>();
      const lock: TakeLock = async (name) => {
        if (held.has(name)) return;
        const previous = tails.get(name) ?? Promise.resolve();
        let release!: () => void;
        const released = new Promise<void>((resolve) => {
          release = resolve;
        });
        const tail = previous.then(() => released);
        tails.set(name, tail);
        held.set(name, { release, tail });
        await previous;
      };
      try {
        return await fn(lock);
      } finally {
        for (const [name, { release, tail }] of held) {
          release();
          if (tails.get(name) === tail) tails.delete(name);
        }
      }
    }),
    close: async () => {},
  };
}

/**
 * Advisory locks on a dedicated pool, so a request waiting for a lock never
 * holds a connection the locked work itself needs.
 */
export function postgresLocks(url: string, max: number): KeyedLocks {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 10_000,
    idleTimeoutMillis: 30_000,
    // Bounds both the wait for a lock and the locked work: a stuck holder frees its lock.
    statement_timeout: 10_000,
    idle_in_transaction_session_timeout: 30_000,
  });
  pool.on("error", () => {});
  return {
    hold: reentrant(async (fn) => {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        await client.query("BEGIN");
        const held = new Set<string>();
        const lock: TakeLock = async (name) => {
          if (held.has(name)) return;
          await client.query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", [name]);
          held.add(name);
        };
        try {
          const result = await fn(lock);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          await client.query("ROLLBACK").catch((e: Error) => {
            broken = e;
          });
          throw error;
        }
      } catch (error) {
        broken ??= isConnectionError(error) ? (error as Error) : undefined;
        throw error;
      } finally {
        client.release(broken);
      }
    }),
    close: async () => {
      if (!pool.ended) await pool.end();
    },
  };
}

const isConnectionError = (error: unknown) =>
  /Connection terminated|ECONNRESET|EPIPE/i.test(String((error as Error)?.message ?? ""));
