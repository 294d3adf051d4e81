import { type Connection, connect, type DatabaseTarget, type DrizzleDb } from "@amp/db";
import * as schema from "./schema.ts";

export type { SqlClient } from "@amp/db";
export type Db = DrizzleDb<typeof schema>;

/** The marketplace's database: a connection plus its Drizzle schema. */
export interface Database extends Connection {
  db: Db;
}

export async function openDatabase(
  target: DatabaseTarget,
  opts: { poolSize?: number } = {},
): Promise<Database> {
  const connection = await connect(target, opts);
  return { ...connection, db: connection.drizzle(schema) };
}
