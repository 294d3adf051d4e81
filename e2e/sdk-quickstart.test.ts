/**
 * The builder's path, from an empty folder (issue 11): pack the SDK tarballs, install them with nothing
 * else from this repository, write agent-kit's README quick start verbatim, start `npx marketplace dev`
 * from the installed tarball, run the quick start in plain JavaScript, and prove sign-in (the real
 * redirect dance over HTTP), a charged request and a 429 at the cap.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { agentCall } from "../packages/agent-kit/test/support/stack.ts";
import { type DevProcess, startDev } from "../packages/marketplace/test/support/dev-process.ts";
import { docBlock } from "../packages/marketplace/test/support/doc-blocks.ts";
import { Browser } from "../packages/marketplace/test/support/oauth.ts";
import { freePort, stopChild } from "./stack.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const BIN = join(ROOT, "node_modules/.bin");
const README = join(ROOT, "packages/agent-kit/README.md");
const run = promisify(execFile);
/** The pinned Node (node_modules/.bin) first, as in CI; nothing else from the repository is reachable. */
const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${BIN}:${process.env.PATH}`, LOG_LEVEL: "warn" };
for (const name of ["DATABASE_URL", "TEST_DATABASE_URL", "NODE_OPTIONS", "AUTH_SECRET"]) delete env[name];

const quickStartBlock = (markdown: string, name: string) => docBlock(markdown, `quick-start:${name}`);

const scratch = mkdtempSync(join(tmpdir(), "amp-builder-"));
/** The builder's empty folder (lower case: `npm init -y` names the package after it). */
const folder = join(scratch, "echo-agent");
mkdirSync(folder);
let marketplace: DevProcess | undefined;
let agent: ChildProcess | undefined;
let agentLog = "";

afterAll(async () => {
  await marketplace?.stop();
  await stopChild(agent);
  rmSync(scratch, { recursive: true, force: true });
});

describe("agent-kit quick start from the packed tarballs, in an empty folder", () => {
  let agentUrl = "";

  beforeAll(async () => {
    await run(join(BIN, "tsx"), [join(ROOT, "scripts/pack-sdk.ts")], { cwd: ROOT, env });
    const tarballs = readdirSync(join(ROOT, "dist/packages"))
      .filter((f) => f.endsWith(".tgz"))
      .map((f) => join(ROOT, "dist/packages", f));
    expect(tarballs).toHaveLength(5);

    // The README's install block verbatim, pointed at this checkout's tarballs; npm's cache first (CI
    // installed the same versions a minute earlier).
    const readme = readFileSync(README, "utf8");
    const install = quickStartBlock(readme, "install");
    expect(install).toContain("/path/to/dist/packages/*.tgz");
    await run(
      "bash",
      ["-euo", "pipefail", "-c", install.replaceAll("/path/to/dist/packages", join(ROOT, "dist/packages"))],
      {
        cwd: folder,
        env: {
          ...env,
          npm_config_prefer_offline: "true",
          npm_config_audit: "false",
          npm_config_fund: "false",
          npm_config_loglevel: "error",
        },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    // For the TypeScript consumer check below.
    await run(
      "npm",
      [
        "install",
        "--prefer-offline",
        "--no-audit",
        "--no-fund",
        "--loglevel=error",
        "--save-dev",
        "@types/express@5.0.6",
        "@types/node@24.19.2",
      ],
      {
        cwd: folder,
        env,
        maxBuffer: 16 * 1024 * 1024,
      },
    );

    // The README's blocks verbatim; only the agent's port changes in agent.yaml (3001 may be taken here).
    const agentPort = await freePort();
    agentUrl = `http://localhost:${agentPort}`;
    const agentYaml = quickStartBlock(readme, "agent.yaml");
    expect(agentYaml).toContain("http://localhost:3001/");
    writeFileSync(
      join(folder, "agent.yaml"),
      agentYaml.replaceAll("localhost:3001", `localhost:${agentPort}`),
    );
    writeFileSync(join(folder, "server.mjs"), quickStartBlock(readme, "server.mjs"));

    const marketplacePort = await freePort();
    marketplace = await startDev(
      "npx",
      ["--no-install", "marketplace", "dev", "--agent", "agent.yaml", "--port", String(marketplacePort)],
      { cwd: folder, env },
    );
    agent = spawn(process.execPath, ["server.mjs"], {
      cwd: folder,
      env: {
        ...env,
        ...marketplace.env,
        PORT: String(agentPort),
        AUTH_SECRET: "quick-start-secret-0123456789abcdef0123",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    agent.stdout?.on("data", (c: Buffer) => {
      agentLog += c.toString();
    });
    agent.stderr?.on("data", (c: Buffer) => {
      agentLog += c.toString();
    });
    const deadline = Date.now() + 60_000;
    while (!agentLog.includes("agent on http://localhost:")) {
      if (agent.exitCode !== null) throw new Error(`server.mjs exited with ${agent.exitCode}:\n${agentLog}`);
      if (Date.now() > deadline) throw new Error(`server.mjs did not start:\n${agentLog}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }, 600_000);

  it("nothing from the repository is resolvable from the folder", () => {
    const installed = readdirSync(join(folder, "node_modules/@amp")).sort();
    expect(installed).toEqual(["agent-kit", "contract", "db", "marketplace", "telemetry"]);
    // Installed copies, not links into the monorepo.
    const kitJson = JSON.parse(
      readFileSync(join(folder, "node_modules/@amp/agent-kit/package.json"), "utf8"),
    );
    expect(kitJson.exports["."].default).toBe("./dist/index.js");
    expect(Object.keys(kitJson.exports)).not.toContain("./internal"); // first-party only
  });

  it("every published entry point loads in plain Node, with .d.ts beside it", {
    timeout: 60_000,
  }, async () => {
    const kitJson = JSON.parse(
      readFileSync(join(folder, "node_modules/@amp/agent-kit/package.json"), "utf8"),
    );
    // ./react needs the app's React (an optional peer, not installed here): checked for its files only.
    const entries = Object.keys(kitJson.exports)
      .filter((k) => k !== "./package.json" && k !== "./react")
      .map((k) => `@amp/agent-kit${k.slice(1)}`);
    expect(entries).toEqual(
      expect.arrayContaining(["@amp/agent-kit", "@amp/agent-kit/express", "@amp/agent-kit/sqlite"]),
    );
    const script = [...entries, "@amp/marketplace", "@amp/contract"].map(
      (m) => `await import(${JSON.stringify(m)});`,
    );
    await run(process.execPath, ["--input-type=module", "-e", script.join("\n")], { cwd: folder, env });
    for (const entry of Object.values(kitJson.exports) as ({ types: string; default: string } | string)[]) {
      if (typeof entry === "string") continue;
      expect(existsSync(join(folder, "node_modules/@amp/agent-kit", entry.types)), entry.types).toBe(true);
      expect(existsSync(join(folder, "node_modules/@amp/agent-kit", entry.default)), entry.default).toBe(
        true,
      );
    }
  });

  it("type-checks in a TypeScript consumer (NodeNext, strict)", { timeout: 120_000 }, async () => {
    writeFileSync(
      join(folder, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          target: "ES2023",
          module: "NodeNext",
          moduleResolution: "NodeNext",
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ["node"],
        },
        files: ["typed.ts"],
      }),
    );
    const typed = `import { DatabaseSync } from "node:sqlite";
import { createAgentKit, QuotaExceededError, type AgentUser } from "@amp/agent-kit";
import { expressAdapter } from "@amp/agent-kit/express";
import { sqliteStorage } from "@amp/agent-kit/sqlite";
const kit = await createAgentKit({
  marketplaceUrl: "http://localhost:4000", clientId: "c", agentId: "a", agentSlug: "s",
  baseURL: "http://localhost:3001", secret: "x".repeat(32),
  storage: sqliteStorage(new DatabaseSync(":memory:")), allowInsecureMarketplace: true,
});
const mp = expressAdapter(kit);
const handler: import("express").RequestHandler = mp.chargeable("messages");
const user: AgentUser | undefined = undefined;
export { handler, user, QuotaExceededError };
`;
    writeFileSync(join(folder, "typed.ts"), typed);
    await run(join(BIN, "tsc"), ["-p", folder], { cwd: folder, env });
    // And a type error is reported (the check is real).
    writeFileSync(join(folder, "typed.ts"), `${typed}const wrong: number = mp;\n`);
    await expect(run(join(BIN, "tsc"), ["-p", folder], { cwd: folder, env })).rejects.toMatchObject({
      stdout: expect.stringContaining("TS2322"),
    });
  });

  it("the installed marketplace serves its web app from the tarball", async () => {
    const mp = marketplace!.env.MARKETPLACE_API_URL;
    // A browser navigation (the Browser stand-in sends a navigation's headers; Node's fetch cannot).
    const page = await new Browser(mp).fetch("/");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain('<div id="root">');
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    expect(script).toBeDefined();
    const asset = await fetch(`${mp}${script}`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toContain("immutable");
  });

  it("signs the demo user in, charges a request, and answers 429 at the cap", {
    timeout: 120_000,
  }, async () => {
    const mp = marketplace!.env;
    const browser = new Browser(agentUrl);
    // A signed-out page load is sent to sign-in.
    const signedOut = await browser.fetch(`${agentUrl}/`);
    expect(signedOut.status).toBe(302);

    // Sign in at the marketplace as the demo user `marketplace dev` printed.
    const signIn = await browser.fetch(`${mp.MARKETPLACE_API_URL}/api/auth/sign-in/email`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        origin: mp.MARKETPLACE_API_URL,
      },
      body: JSON.stringify({ email: mp.DEMO_USER_EMAIL, password: mp.DEMO_USER_PASSWORD }),
    });
    expect(signIn.status).toBe(200);

    // agent → authorize → callback → agent session.
    const start = await browser.fetch(`${agentUrl}/api/auth/sign-in/marketplace?returnTo=/`);
    expect(start.status).toBe(302);
    const authorize = await browser.fetch(start.headers.get("location")!);
    const callback = authorize.headers.get("location");
    expect(callback?.startsWith(`${agentUrl}/api/auth/oauth2/callback/marketplace?`)).toBe(true);
    const done = await browser.fetch(callback!);
    expect(done.status, agentLog).toBe(303);
    const home = await browser.fetch(`${agentUrl}/`);
    expect(home.status).toBe(200);
    expect(await home.text()).toContain(`Signed in as ${mp.DEMO_USER_EMAIL}`);
    const me = await agentCall(browser, `${agentUrl}/me`);
    expect(me.body).toMatchObject({ email: mp.DEMO_USER_EMAIL });

    // The Free tier allows 3 messages: three are charged, the fourth is refused and nothing runs.
    for (let i = 1; i <= 3; i++) {
      const echo = await agentCall(browser, `${agentUrl}/api/echo`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: `hello ${i}` }),
      });
      expect(echo, agentLog).toMatchObject({ status: 200, body: { echo: `hello ${i}` } });
    }
    const capped = await agentCall(browser, `${agentUrl}/api/echo`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "one too many" }),
    });
    expect(capped.status).toBe(429);
    expect(capped.body).toMatchObject({ remaining: 0, upgradeUrl: expect.stringContaining("/pricing/echo") });

    // The marketplace's ledger agrees: three used of three.
    const usage = await browser.fetch(`${mp.MARKETPLACE_API_URL}/me/agents/${mp.AGENT_ID}/usage/messages`, {
      headers: { accept: "application/json" },
    });
    expect(((await usage.json()) as { data: { used: number } }).data.used).toBe(3);
  });
});
