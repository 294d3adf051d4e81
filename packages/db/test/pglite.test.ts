import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { connect } from "../src/index.ts";

const dir = mkdtempSync(join(tmpdir(), "amp-db-pglite-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const setting = async (target: Parameters<typeof connect>[0], name: string) => {
  const db = await connect(target);
  try {
    const { rows } = await db.sql.query<{ value: string }>(`SELECT current_setting('${name}') AS value`);
    return rows[0]!.value;
  } finally {
    await db.close();
  }
};

describe("embedded PGlite", () => {
  it("runs with a 16 MB buffer pool, in memory and on a data directory, and a data directory reopens", async () => {
    expect(await setting({ memory: true }, "shared_buffers")).toBe("16MB");
    expect(await setting({ dataDir: dir }, "shared_buffers")).toBe("16MB");
    // The second open starts PostgreSQL on the files the first left, with the same parameters.
    expect(await setting({ dataDir: dir }, "shared_buffers")).toBe("16MB");
    // PGlite's own start parameters are kept alongside ours.
    expect(await setting({ memory: true }, "search_path")).toBe("public");
  });
});
