import { periodContaining } from "@amp/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Database, openDatabase } from "../src/db/database.ts";
import { migrate } from "../src/db/migrate.ts";
import { testDatabase } from "./support/database.ts";

let target: Awaited<ReturnType<typeof testDatabase>>;
let db: Database;
beforeAll(async () => {
  target = await testDatabase();
  db = await openDatabase(target.memory ? { memory: true } : { url: target.env.DATABASE_URL! });
  await migrate(db.sql);
});
afterAll(async () => {
  await db?.close();
  await target?.drop();
});

describe("D.6 period math agrees between SQL (server) and TypeScript (SDK)", () => {
  it("month-end anchors, leap years and yearly periods", async () => {
    const anchors = [
      "2024-01-31T23:59:59Z",
      "2024-02-29T12:00:00Z",
      "2025-03-30T00:00:00Z",
      "2025-08-31T05:30:00Z",
      "2023-12-15T00:00:00Z",
    ];
    const nows = [
      "2024-02-29T23:59:59Z",
      "2024-03-01T00:00:00Z",
      "2025-02-28T12:00:00Z",
      "2025-04-30T00:00:00Z",
      "2026-11-23T04:00:00Z",
      "2028-02-29T00:00:00Z",
    ];
    for (const anchor of anchors) {
      for (const now of nows) {
        for (const [interval, months] of [
          ["month", 1],
          ["year", 12],
        ] as const) {
          const { rows } = await db.sql.query<{ period_start: Date; period_end: Date }>(
            "SELECT period_start, period_end FROM usage_period($1, $2, $3)",
            [new Date(anchor), months, new Date(now)],
          );
          const ts = periodContaining(new Date(anchor), interval, new Date(now));
          const label = `${anchor} ${interval} @ ${now}`;
          expect(new Date(rows[0]!.period_start).toISOString(), label).toBe(ts.start.toISOString());
          expect(new Date(rows[0]!.period_end).toISOString(), label).toBe(ts.end.toISOString());
        }
      }
    }
  });
});
