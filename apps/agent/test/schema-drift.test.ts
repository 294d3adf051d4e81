import { type Connection, connect, migrate } from "@amp/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testDatabase } from "../../../packages/marketplace/test/support/database.ts";
import { schemaDrift } from "../../../packages/marketplace/test/support/schema-drift.ts";
import { kitStorage, MIGRATIONS } from "../server/open.ts";
import * as schema from "../server/schema.ts";

/** agent-kit's tables (better-auth's and its own, created by its storage); the agent reaches them only through the kit. */
const AGENT_KIT_TABLES = [
  "user",
  "session",
  "account",
  "verification",
  "rateLimit",
  "agent_kit_throttle",
  "agent_kit_webhook_events",
  "agent_kit_webhook_sequences",
  "agent_kit_migrations",
];

describe("the agent's Drizzle schema and its migrations agree", () => {
  let target: Awaited<ReturnType<typeof testDatabase>>;
  let database: Connection;
  beforeAll(async () => {
    target = await testDatabase();
    database = await connect(target.memory ? { memory: true } : { url: target.env.DATABASE_URL! });
    await kitStorage(database).migrate();
    await migrate(database.sql, [MIGRATIONS]);
  });
  afterAll(async () => {
    await database?.close();
    await target?.drop();
  });

  it("every table and column of schema.ts exists with its type and nullability; every table is accounted for", async () => {
    const drift = await schemaDrift(database.sql, schema, {
      complete: ["knowledge_bases", "documents", "messages"],
      foreign: [...AGENT_KIT_TABLES, "_migrations"],
    });
    expect(drift).toEqual([]);
  });
});
