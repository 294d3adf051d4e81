import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

  it("register-agent applies a YAML spec idempotently; seed-demo is idempotent; stripe:replay runs", {
    timeout: 90_000,
  }, async () => {
    const spec = join(dataDir, "agent.yaml");
    writeFileSync(
      spec,
      [
        "agent:",
        "  name: Spec Agent",
        "  slug: spec-agent",
        "  status: active",
        "  redirectUris: [https://spec.example.com/api/auth/oauth2/callback/marketplace]",
        "metrics:",
        "  - { slug: messages, displayName: Messages, unit: messages, kind: rolling }",
        "tiers:",
        "  - { tierName: Free, isFree: true, quotas: { messages: 10 } }",
      ].join("\n"),
    );
    const first = (await cli("register-agent", spec)).stdout;
    expect(first).toMatch(/^AGENT_ID=[0-9a-f-]{36}$/m);
    expect(first).toMatch(/^OAUTH_CLIENT_ID=\S+$/m);
    expect((await cli("register-agent", spec)).stdout).toBe(first);

    const seeded = (await cli("seed-demo")).stdout;
    expect(seeded).toContain("AGENT_SLUG=kb-assistant");
    expect((await cli("seed-demo")).stdout).toBe(seeded);
    expect((await cli("stripe:replay")).stdout).toContain("replayed: 0 processed, 0 still failing");

    writeFileSync(spec, "agent:\n  name: Broken\n  slug: Not A Slug\n");
    await expect(cli("register-agent", spec)).rejects.toMatchObject({
      stderr: expect.stringMatching(/agent\.slug[\s\S]*agent\.redirectUris/),
    });
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
