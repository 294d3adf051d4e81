import type { PGlite } from "@electric-sql/pglite";
import { dollarPlaceholder, sqlLedger } from "../webhooks/ledger.ts";
import { KeyedMutex } from "./keyed-mutex.ts";
import { PgliteDialect } from "./pglite-dialect.ts";
import { migratePostgres, postgresAccounts, postgresThrottle, type Query } from "./postgres-sql.ts";
import type { AgentKitStorage } from "./types.ts";

/**
 * agent-kit's storage on an in-process PGlite (yours; agent-kit never closes it). better-auth reaches it
 * through a Kysely dialect that maps its transactions onto `PGlite.transaction()`.
 *
 * The refresh lock: PGlite is one process with one backend session, so an advisory lock would always be
 * granted to itself (advisory locks are per session and re-entrant). The lock that fits is therefore an
 * in-process named mutex; no other process can open the same data directory.
 *
 * @example
 * import { PGlite } from "@electric-sql/pglite";
 * import { pgliteStorage } from "@amp/agent-kit/pglite";
 * const storage = pgliteStorage(await PGlite.create("./data"));
 */
export function pgliteStorage(pglite: PGlite): AgentKitStorage {
  const query: Query = async <R>(text: string, params?: unknown[]) => pglite.query<R>(text, params);
  const accounts = postgresAccounts(query);
  const locks = new KeyedMutex();
  return {
    kind: "pglite",
    authDatabase: { dialect: new PgliteDialect(pglite), type: "postgres" },
    accounts,
    throttle: postgresThrottle(query),
    webhooks: sqlLedger(query, dollarPlaceholder),
    async migrate() {
      await migratePostgres((run) =>
        pglite.transaction(async (tx) => {
          await run(
            async <R>(text: string, params?: unknown[]) => tx.query<R>(text, params),
            (sql) => tx.exec(sql),
          );
        }),
      );
    },
    withLock: (key, timeoutMs, fn) => locks.run(key, timeoutMs, () => fn(accounts)),
  };
}
