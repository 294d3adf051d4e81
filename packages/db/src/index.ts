export { dataDirSecret } from "./data-dir.ts";
export { DataDirBusyError } from "./data-dir-lock.ts";
export {
  type Connection,
  connect,
  type DatabaseTarget,
  type DrizzleDb,
  type PoolStats,
  type SqlClient,
} from "./database.ts";
export { databaseErrorKind, isDatabaseUnavailable } from "./errors.ts";
export type { KeyedLocks, TakeLock } from "./keyed-locks.ts";
export type { Subscription, Unlisten } from "./listen.ts";
export { type MigrationResult, type MigrationSource, migrate } from "./migrate.ts";
export { PgliteDialect } from "./pglite-dialect.ts";
