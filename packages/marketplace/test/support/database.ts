import { randomBytes } from "node:crypto";
import pg from "pg";

/**
 * Where a suite's database lives: in-memory PGlite by default, or — when
 * TEST_DATABASE_URL points at a PostgreSQL server — a fresh database created
 * for this suite and dropped afterwards.
 */
export async function testDatabase(): Promise<{
  env: Record<string, string>;
  memory: boolean;
  drop(): Promise<void>;
}> {
  const serverUrl = process.env.TEST_DATABASE_URL;
  if (!serverUrl) return { env: {}, memory: true, drop: async () => {} };
  const name = `mp_test_${randomBytes(6).toString("hex")}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    memory: false,
    drop: async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
