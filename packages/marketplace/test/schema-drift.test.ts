import { getTableName, isTable } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import * as schema from "../src/db/schema.ts";
import { testDatabase } from "./support/database.ts";
import { schemaDrift } from "./support/schema-drift.ts";

/** better-auth creates and owns these (migrations/0001_auth.sql); schema.ts declares only what the marketplace reads of `user`, `oauthClient` and `oauthAccessToken`. */
const BETTER_AUTH_TABLES = [
  "session",
  "account",
  "verification",
  "jwks",
  "oauthRefreshToken",
  "oauthConsent",
  "oauthClientAssertion",
  "oauthClientResource",
  "oauthResource",
  "rateLimit",
];
/** The migration runner's own bookkeeping. */
const RUNNER_TABLES = ["_migrations"];

describe("the Drizzle schema and the migrations agree", () => {
  let target: Awaited<ReturnType<typeof testDatabase>>;
  let database: Database;
  beforeAll(async () => {
    target = await testDatabase();
    database = await openDatabase(target.memory ? { memory: true } : { url: target.env.DATABASE_URL! });
    await migrate(database.sql);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it("every table and column of schema.ts exists with its type and nullability; every table is accounted for", async () => {
    // The marketplace's own tables are declared in full; of better-auth's it declares only what it reads.
    const owned = Object.values(schema)
      .filter(isTable)
      .map((t) => getTableName(t))
      .filter((name) => !["user", "oauthClient", "oauthAccessToken"].includes(name));
    const drift = await schemaDrift(database.sql, schema, {
      complete: owned,
      foreign: [...BETTER_AUTH_TABLES, ...RUNNER_TABLES],
    });
    expect(drift).toEqual([]);
  });
});
