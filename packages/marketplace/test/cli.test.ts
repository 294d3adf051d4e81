import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { testDatabase } from "./support/database.ts";

const run = promisify(execFile);
const CLI = new URL("../src/cli.ts", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "amp-cli-"));
const database = await testDatabase();
const env = { ...process.env, MARKETPLACE_DATA_DIR: dataDir, LOG_LEVEL: "warn", ...database.env };
const cli = (...args: string[]) => run(process.execPath, ["--import", "tsx", CLI, ...args], { env });

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await database.drop();
});

describe("marketplace CLI", () => {
  it("migrate, create-admin (idempotent) and create-client work end to end", {
    timeout: 60_000,
  }, async () => {
    expect((await cli("migrate")).stdout).toContain("migrations applied");
    expect(
      (await cli("create-admin", "--email", "Root@Example.com", "--password", "admin-password-1")).stdout,
    ).toContain("created platform admin root@example.com");
    expect(
      (await cli("create-admin", "--email", "root@example.com", "--password", "admin-password-1")).stdout,
    ).toContain("promoted platform admin root@example.com");
    const { stdout } = await cli(
      "create-client",
      "--name",
      "Demo agent",
      "--redirect-uri",
      "http://localhost:3001/api/auth/oauth2/callback/marketplace",
    );
    expect(stdout).toMatch(/^OAUTH_CLIENT_ID=[\w-]{32}$/m);
    expect(stdout).not.toContain("OAUTH_CLIENT_SECRET");
  });

  it("explains bad usage and bad configuration", async () => {
    await expect(cli("create-client", "--name", "x")).rejects.toMatchObject({
      stderr: expect.stringContaining("--redirect-uri"),
    });
    await expect(
      run(process.execPath, ["--import", "tsx", CLI, "migrate"], {
        env: { ...env, MARKETPLACE_PORT: "nope" },
      }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("MARKETPLACE_PORT") });
  });
});
