import { fileURLToPath } from "node:url";
import { type MigrationResult, migrate as runMigrations, type SqlClient } from "@amp/db";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));

/** Applies the marketplace's checked-in migrations (see @amp/db for the guarantees). */
export function migrate(sql: SqlClient): Promise<MigrationResult> {
  return runMigrations(sql, [{ name: "", dir: MIGRATIONS_DIR }]);
}
