// Creates or drops one database on a PostgreSQL server: node pg-database.mjs create|drop <server-url> <name>
import pg from "pg";

const [action, serverUrl, name] = process.argv.slice(2);
if (!["create", "drop"].includes(action) || !serverUrl || !/^[a-z0-9_]+$/.test(name ?? "")) {
  console.error("usage: pg-database.mjs create|drop <server-url> <name>");
  process.exit(2);
}
const client = new pg.Client({ connectionString: `${serverUrl}/postgres` });
await client.connect();
try {
  await client.query(
    action === "create" ? `CREATE DATABASE ${name}` : `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`,
  );
} finally {
  await client.end();
}
