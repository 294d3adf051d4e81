import { execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { user } from "../src/db/schema.ts";
import { startMarketplace } from "../src/server.ts";
import { testDatabase } from "./support/database.ts";
import { Browser, PASSWORD, signedInBrowser } from "./support/oauth.ts";

const run = promisify(execFile);
const CLI = new URL("../src/cli.ts", import.meta.url).pathname;
const dataDir = mkdtempSync(join(tmpdir(), "amp-cli-"));
const database = await testDatabase();
const env = {
  ...process.env,
  MARKETPLACE_DATA_DIR: dataDir,
  LOG_LEVEL: "warn",
  DEV_CHECKOUT: "on",
  ...database.env,
};
const cli = (...args: string[]) => run(process.execPath, ["--import", "tsx", CLI, ...args], { env });

/** The marketplace on the CLI's database, in this process, for what only its HTTP API can do. */
const serve = () =>
  startMarketplace({
    env: { ...env, MARKETPLACE_PORT: "0", NODE_ENV: "test", RATE_LIMIT: "off", LOG_LEVEL: "silent" },
  });

afterAll(async () => {
  rmSync(dataDir, { recursive: true, force: true });
  await database.drop();
});

describe("marketplace CLI", () => {
  // Every CLI call boots tsx and migrates: on a loaded two-core machine that is ~10-15 s each.
  it("migrate, create-admin (idempotent) and create-client work end to end", {
    timeout: 120_000,
  }, async () => {
    expect((await cli("migrate")).stdout).toContain("migrations applied");
    expect(
      (await cli("create-admin", "--email", "Root@Example.com", "--password", "admin-password-1")).stdout,
    ).toContain("created platform admin root@example.com");
    expect(
      (await cli("create-admin", "--email", "root@example.com", "--password", "admin-password-1")).stdout,
    ).toContain("root@example.com is already a platform admin\npassword: unchanged");
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

  it("explains bad usage and bad configuration", { timeout: 60_000 }, async () => {
    await expect(cli("create-client", "--name", "x")).rejects.toMatchObject({
      stderr: expect.stringContaining("--redirect-uri"),
    });
    await expect(
      run(process.execPath, ["--import", "tsx", CLI, "migrate"], {
        env: { ...env, MARKETPLACE_PORT: "nope" },
      }),
    ).rejects.toMatchObject({ stderr: expect.stringContaining("MARKETPLACE_PORT") });
  });

  it("F.8a create-admin refuses an account someone else registered unless --promote; promotion revokes its sessions and keeps (or, with --password, sets) the password", {
    timeout: 90_000,
  }, async () => {
    const email = "stranger@example.com";
    const signIn = (base: string, password: string) =>
      new Browser(base).postJson("/api/auth/sign-in/email", { email, password });
    const sessionOf = async (base: string, cookies: Map<string, string>) => {
      const browser = new Browser(base);
      for (const [k, v] of cookies) browser.cookies.set(k, v);
      const response = await browser.fetch("/api/auth/get-session", {
        headers: { accept: "application/json" },
      });
      return (await response.json()) as { user: { role: string | null } } | null;
    };
    const roleOf = async (mp: Awaited<ReturnType<typeof serve>>) =>
      (await mp.database.db.select({ role: user.role }).from(user).where(eq(user.email, email)))[0]?.role;

    let mp = await serve();
    const stranger = await signedInBrowser(mp.url, { email });
    await mp.close();

    await expect(
      cli("create-admin", "--email", email, "--password", "operator-password-1"),
    ).rejects.toMatchObject({
      code: 1,
      stderr: expect.stringContaining("--promote"),
    });
    mp = await serve();
    expect(await roleOf(mp)).not.toBe("platform_admin");
    expect(await sessionOf(mp.url, stranger.browser.cookies)).not.toBeNull();
    await mp.close();

    const promoted = (await cli("create-admin", "--email", email, "--promote")).stdout;
    expect(promoted).toContain(`promoted platform admin ${email}`);
    expect(promoted).toContain("password: unchanged");
    expect(promoted).toContain("sessions: every existing session of this account was revoked");
    mp = await serve();
    expect(await roleOf(mp)).toBe("platform_admin");
    expect(await sessionOf(mp.url, stranger.browser.cookies)).toBeNull();
    expect((await signIn(mp.url, PASSWORD)).status).toBe(200);
    await mp.close();

    const reset = (
      await cli("create-admin", "--email", email, "--promote", "--password", "operator-password-1")
    ).stdout;
    expect(reset).toContain("password: set to the one given");
    mp = await serve();
    expect((await signIn(mp.url, PASSWORD)).status).toBe(401);
    expect((await signIn(mp.url, "operator-password-1")).status).toBe(200);
    await mp.close();
  });

  it("a command on a PGlite data directory that a running server holds refuses with a clear message and exit 1; nothing is lost", {
    timeout: 120_000,
  }, async () => {
    // Always PGlite here, whatever the suite's database: the data directory is what is at stake.
    const held = mkdtempSync(join(tmpdir(), "amp-cli-held-"));
    const {
      DATABASE_URL: _url,
      TEST_DATABASE_URL: _test,
      ...base
    } = env as Record<string, string | undefined>;
    const pgliteEnv = { ...base, MARKETPLACE_DATA_DIR: held, MARKETPLACE_PORT: "0" };
    const server = spawn(process.execPath, ["--import", "tsx", CLI, "serve"], { env: pgliteEnv });
    try {
      let output = "";
      server.stdout.on("data", (chunk) => (output += chunk));
      server.stderr.on("data", (chunk) => (output += chunk));
      const deadline = Date.now() + 60_000;
      while (!/ready at (http\S+)/.test(output)) {
        if (server.exitCode !== null || Date.now() > deadline)
          throw new Error(`server did not start:\n${output}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      const url = /ready at (http\S+)/.exec(output)![1]!;
      const spec = join(held, "agent.yaml");
      writeFileSync(
        spec,
        "agent:\n  name: Held\n  slug: held-agent\n  status: active\n  redirectUris: [https://held.example.com/cb]\n",
      );
      const cliOn = (...args: string[]) =>
        run(process.execPath, ["--import", "tsx", CLI, ...args], { env: pgliteEnv });
      for (const args of [
        ["register-agent", spec],
        ["create-admin", "--email", "x@example.com", "--password", "pw-123456789"],
        ["migrate"],
      ]) {
        await expect(cliOn(...args), args[0]).rejects.toMatchObject({
          code: 1,
          stderr: expect.stringMatching(/data directory .* is in use by process \d+[\s\S]*DATABASE_URL/),
        });
      }
      // The running server is unaffected and still serves its own data.
      expect((await fetch(`${url}/health`)).status).toBe(200);

      server.kill("SIGTERM");
      await new Promise((r) => (server.exitCode !== null ? r(null) : server.once("exit", r)));
      expect((await cliOn("register-agent", spec)).stdout).toMatch(/^AGENT_ID=/m);

      // A lock left by a process that died (kill -9) is taken over.
      const dead = spawn(process.execPath, ["-e", ""]);
      await new Promise((r) => dead.once("exit", r));
      writeFileSync(join(held, "pg", "amp.lock"), String(dead.pid));
      expect((await cliOn("migrate")).stdout).toContain("migrations applied");
    } finally {
      if (server.exitCode === null) server.kill("SIGKILL");
      rmSync(held, { recursive: true, force: true });
    }
  });
});
