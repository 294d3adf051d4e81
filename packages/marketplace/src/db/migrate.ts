import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { SqlClient } from "./database.ts";

const MIGRATIONS_DIR = fileURLToPath(new URL("../../migrations/", import.meta.url));
/** Arbitrary constant: every instance takes the same advisory lock while migrating. */
const MIGRATION_LOCK_KEY = 720_451_001;

export interface MigrationResult {
  applied: string[];
  skipped: number;
}

/**
 * Applies the checked-in SQL migrations in file-name order, each in its own
 * transaction, recording them in `_migrations`. Safe to run on every boot and
 * from several instances at once: a session-level advisory lock serialises
 * them, and each re-reads what is applied after taking it.
 */
export async function migrate(sql: SqlClient, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".sql"))
    .sort();
  return sql.withSession(async (s) => {
    await s.query("SELECT pg_advisory_lock($1)", [MIGRATION_LOCK_KEY]);
    try {
      await s.query(
        "CREATE TABLE IF NOT EXISTS _migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())",
      );
      const done = new Set(
        (await s.query<{ name: string }>("SELECT name FROM _migrations")).rows.map((r) => r.name),
      );
      const applied: string[] = [];
      for (const file of files) {
        if (done.has(file)) continue;
        const text = readFileSync(`${dir}/${file}`, "utf8");
        await s.query("BEGIN");
        try {
          await runScript(s, text);
          await s.query("INSERT INTO _migrations (name) VALUES ($1)", [file]);
          await s.query("COMMIT");
        } catch (error) {
          await s.query("ROLLBACK");
          throw new Error(`migration ${file} failed: ${(error as Error).message}`, { cause: error });
        }
        applied.push(file);
      }
      return { applied, skipped: done.size };
    } finally {
      await s.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  });
}

/** Splits on the `--> statement-breakpoint` markers so each statement runs as one extended-protocol query. */
async function runScript(s: SqlClient, text: string) {
  for (const statement of text.split("--> statement-breakpoint")) {
    if (statement.trim()) await s.query(statement);
  }
}
