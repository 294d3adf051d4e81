import type { SqlClient } from "@amp/db";
import { isTable } from "drizzle-orm";
import { getTableConfig, type PgTable } from "drizzle-orm/pg-core";

interface DbColumn {
  table_name: string;
  column_name: string;
  data_type: string;
  is_nullable: "YES" | "NO";
  numeric_precision: number | null;
  numeric_scale: number | null;
  character_maximum_length: number | null;
}

/** Drizzle's SQL type in information_schema's words (serials are their integer type plus a default). */
function normalise(sqlType: string): { type: string; precision?: number; scale?: number; length?: number } {
  const sized = /^(char|varchar)\((\d+)\)$/.exec(sqlType);
  if (sized)
    return { type: sized[1] === "char" ? "character" : "character varying", length: Number(sized[2]) };
  const numeric = /^numeric\((\d+),\s*(\d+)\)$/.exec(sqlType);
  if (numeric) return { type: "numeric", precision: Number(numeric[1]), scale: Number(numeric[2]) };
  const aliases: Record<string, string> = { bigserial: "bigint", serial: "integer", smallserial: "smallint" };
  return { type: aliases[sqlType] ?? sqlType };
}

/**
 * Differences between a migrated database and the Drizzle schema, as
 * readable lines (empty = in step):
 * - every table and column of `tables` exists, with the same SQL type and nullability;
 * - `complete` tables (the ones the service owns and declares in full) have no column the schema lacks;
 * - every table of the database is either declared or named in `foreign` (tables other code owns,
 *   such as better-auth's, with the reason kept beside the list).
 */
export async function schemaDrift(
  sql: SqlClient,
  tables: Record<string, unknown>,
  opts: { complete: string[]; foreign: string[] },
): Promise<string[]> {
  const { rows } = await sql.query<DbColumn>(
    `SELECT table_name, column_name, data_type, is_nullable, numeric_precision, numeric_scale,
            character_maximum_length
       FROM information_schema.columns WHERE table_schema = 'public'`,
  );
  const db = new Map<string, Map<string, DbColumn>>();
  for (const row of rows) {
    if (!db.has(row.table_name)) db.set(row.table_name, new Map());
    db.get(row.table_name)!.set(row.column_name, row);
  }
  const problems: string[] = [];
  const declared = new Set<string>();
  for (const value of Object.values(tables)) {
    if (!isTable(value)) continue;
    const config = getTableConfig(value as PgTable);
    declared.add(config.name);
    const actual = db.get(config.name);
    if (!actual) {
      problems.push(`table "${config.name}" is in schema.ts but no migration creates it`);
      continue;
    }
    const names = new Set<string>();
    for (const column of config.columns) {
      names.add(column.name);
      const where = `"${config.name}"."${column.name}"`;
      const found = actual.get(column.name);
      if (!found) {
        problems.push(`${where} is in schema.ts but not in the migrated database`);
        continue;
      }
      const want = normalise(column.getSQLType());
      if (want.type !== found.data_type)
        problems.push(`${where}: schema.ts says ${want.type}, the database ${found.data_type}`);
      else if (
        want.precision !== undefined &&
        (want.precision !== found.numeric_precision || want.scale !== found.numeric_scale)
      )
        problems.push(
          `${where}: schema.ts says numeric(${want.precision}, ${want.scale}), the database numeric(${found.numeric_precision}, ${found.numeric_scale})`,
        );
      else if (want.length !== undefined && want.length !== found.character_maximum_length)
        problems.push(
          `${where}: schema.ts says length ${want.length}, the database ${found.character_maximum_length}`,
        );
      const notNull = column.notNull || column.primary;
      if (notNull !== (found.is_nullable === "NO"))
        problems.push(
          `${where}: schema.ts says ${notNull ? "NOT NULL" : "nullable"}, the database ${found.is_nullable === "NO" ? "NOT NULL" : "nullable"}`,
        );
    }
    if (opts.complete.includes(config.name)) {
      for (const name of actual.keys())
        if (!names.has(name))
          problems.push(`"${config.name}"."${name}" is in the database but not in schema.ts`);
    }
  }
  for (const name of db.keys()) {
    if (!declared.has(name) && !opts.foreign.includes(name))
      problems.push(`table "${name}" is in the database but neither in schema.ts nor in the foreign list`);
  }
  for (const name of opts.complete)
    if (!declared.has(name)) problems.push(`"${name}" is listed as complete but not declared in schema.ts`);
  return problems.sort();
}
