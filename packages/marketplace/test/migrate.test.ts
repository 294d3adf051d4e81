import { readdirSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { testDatabase } from "./support/database.ts";

const files = readdirSync(new URL("../migrations/", import.meta.url)).filter((f) => f.endsWith(".sql"));

describe("migrations", () => {
  let target: Awaited<ReturnType<typeof testDatabase>>;
  let a: Database;
  let b: Database;
  beforeAll(async () => {
    target = await testDatabase();
    if (target.memory) {
      a = await openDatabase({ memory: true });
      b = a;
    } else {
      // Two pools on one database stand for two instances booting together.
      a = await openDatabase({ url: target.env.DATABASE_URL! });
      b = await openDatabase({ url: target.env.DATABASE_URL! });
    }
  });
  afterAll(async () => {
    await a?.close();
    if (b !== a) await b?.close();
    await target?.drop();
  });

  it("two instances migrating at once apply every file exactly once", async () => {
    const [first, second] = await Promise.all([migrate(a.sql), migrate(b.sql)]);
    expect([...first.applied, ...second.applied].sort()).toEqual([...files].sort());
    const { rows } = await a.sql.query<{ name: string }>("SELECT name FROM _migrations ORDER BY name");
    expect(rows.map((r) => r.name)).toEqual([...files].sort());
  });

  it("is idempotent: a second boot applies nothing", async () => {
    const again = await migrate(a.sql);
    expect(again.applied).toEqual([]);
    expect(again.skipped).toBe(files.length);
  });
});
