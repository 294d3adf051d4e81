import { readdirSync, readFileSync } from "node:fs";
import type { SqlClient } from "./database.ts";

/** Arbitrary constant: every instance of every service takes the same advisory lock while migrating. */
const MIGRATION_LOCK_KEY = 720_451_001;

export interface MigrationSource {
  /** Recorded with each file name, so several packages can share one `_migrations` table. */
  name: string;
  dir: string;
}

export interface MigrationResult {
  applied: string[];
  skipped: number;
}

/**
 * Applies checked-in SQL migrations, source by source and file by file in
 * name order, each file in its own transaction, recording them in
 * `_migrations`. Safe to run on every boot and from several instances at
 * once: a session-level advisory lock serialises them, and each re-reads
 * what is applied after taking it.
 */
export async function migrate(sql: SqlClient, sources: MigrationSource[]): Promise<MigrationResult> {
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
      let skipped = 0;
      for (const source of sources) {
        const files = readdirSync(source.dir)
          .filter((f) => f.endsWith(".sql"))
          .sort();
        for (const file of files) {
          const name = source.name ? `${source.name}/${file}` : file;
          if (done.has(name)) {
            skipped++;
            continue;
          }
          await s.query("BEGIN");
          try {
            for (const statement of readFileSync(`${source.dir}/${file}`, "utf8").split(
              "--> statement-breakpoint",
            )) {
              if (statement.trim()) await s.query(statement);
            }
            await s.query("INSERT INTO _migrations (name) VALUES ($1)", [name]);
            await s.query("COMMIT");
          } catch (error) {
            await s.query("ROLLBACK");
            throw new Error(`migration ${name} failed: ${(error as Error).message}`, { cause: error });
          }
          applied.push(name);
        }
      }
      return { applied, skipped };
    } finally {
      await s.query("SELECT pg_advisory_unlock($1)", [MIGRATION_LOCK_KEY]);
    }
  });
}
