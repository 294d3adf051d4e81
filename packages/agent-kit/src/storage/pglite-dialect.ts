// The same dialect as @amp/db's (agent-kit is published alone and cannot import it); keep the two in step.
import type { PGlite, Transaction } from "@electric-sql/pglite";
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type Kysely,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type QueryResult,
} from "kysely";

/**
 * Kysely dialect over one in-process PGlite instance.
 *
 * PGlite has a single backend, so a transaction must hold it exclusively, or
 * an unrelated query (from Drizzle, say) would silently run inside someone
 * else's transaction. Kysely transactions are therefore mapped onto
 * `PGlite.transaction()`, which takes PGlite's own lock; plain queries go
 * through `PGlite.query()`, which waits for that lock. The published
 * `kysely-pglite-dialect` issues a raw `BEGIN` instead, hence this file.
 */
export class PgliteDialect implements Dialect {
  constructor(private readonly pg: PGlite) {}
  createAdapter() {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PgliteDriver(this.pg);
  }
  createQueryCompiler() {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<unknown>) {
    return new PostgresIntrospector(db);
  }
}

type Runner = Pick<PGlite, "query"> | Transaction;

class PgliteConnection implements DatabaseConnection {
  private tx: Transaction | undefined;
  private finishTx: ((rollback: boolean) => void) | undefined;
  private txDone: Promise<unknown> | undefined;

  constructor(private readonly pg: PGlite) {}

  private get runner(): Runner {
    return this.tx ?? this.pg;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.runner.query<R>(query.sql, [...query.parameters]);
    return {
      rows: result.rows,
      ...(result.affectedRows !== undefined ? { numAffectedRows: BigInt(result.affectedRows) } : {}),
    };
  }

  // biome-ignore lint/correctness/useYield: streaming is not supported; the method must exist
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error("PGlite dialect does not support streaming");
  }

  /** Opens a PGlite transaction and keeps it open until commit/rollback. */
  async begin(): Promise<void> {
    await new Promise<void>((started, failed) => {
      this.txDone = this.pg
        .transaction(
          (tx) =>
            new Promise<void>((resolve, reject) => {
              this.tx = tx;
              this.finishTx = (rollback) => (rollback ? reject(new RollbackSignal()) : resolve());
              started();
            }),
        )
        .catch((error: unknown) => {
          if (!(error instanceof RollbackSignal)) {
            failed(error);
            throw error;
          }
        });
    });
  }

  async end(rollback: boolean): Promise<void> {
    const done = this.txDone;
    this.finishTx?.(rollback);
    this.tx = undefined;
    this.finishTx = undefined;
    this.txDone = undefined;
    await done;
  }
}

class RollbackSignal extends Error {}

class PgliteDriver implements Driver {
  constructor(private readonly pg: PGlite) {}
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PgliteConnection(this.pg);
  }
  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).begin();
  }
  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end(false);
  }
  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    await (connection as PgliteConnection).end(true);
  }
  async releaseConnection() {}
  async destroy() {}
}
