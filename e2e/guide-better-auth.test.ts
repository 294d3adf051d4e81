/**
 * docs/guides/better-auth.md, followed: its agent.yaml registered with `marketplace dev`, its server.mjs
 * (plain better-auth 1.7 genericOAuth, no agent-kit) run verbatim with plain Node, and a browser stand-in
 * signing in the way `authClient.signIn.social` does, then charging until the cap.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DevProcess } from "../packages/marketplace/test/support/dev-process.ts";
import { docBlock } from "../packages/marketplace/test/support/doc-blocks.ts";
import { Browser } from "../packages/marketplace/test/support/oauth.ts";
import { devMarketplaceFromSource, freePort, stopChild } from "./stack.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const GUIDE = readFileSync(join(ROOT, "docs/guides/better-auth.md"), "utf8");
const folder = mkdtempSync(join(tmpdir(), "amp-guide-better-auth-"));
// The guide's `npm install better-auth@1.7.7 express`: the repository's own copies of exactly those.
symlinkSync(join(ROOT, "node_modules"), join(folder, "node_modules"));
const env: NodeJS.ProcessEnv = { ...process.env, LOG_LEVEL: "warn" };
for (const name of ["DATABASE_URL", "NODE_OPTIONS", "AUTH_SECRET"]) delete env[name];

let marketplace: DevProcess | undefined;
let agent: ChildProcess | undefined;
let agentLog = "";
let agentUrl = "";

afterAll(async () => {
  await marketplace?.stop();
  await stopChild(agent);
  rmSync(folder, { recursive: true, force: true });
});

beforeAll(async () => {
  const agentPort = await freePort();
  agentUrl = `http://localhost:${agentPort}`;
  const yaml = docBlock(GUIDE, "guide:agent.yaml");
  expect(yaml).toContain("http://localhost:3001/api/auth/callback/marketplace");
  writeFileSync(join(folder, "agent.yaml"), yaml.replaceAll("localhost:3001", `localhost:${agentPort}`));
  writeFileSync(join(folder, "server.mjs"), docBlock(GUIDE, "guide:server.mjs"));

  marketplace = await devMarketplaceFromSource(folder, env);
  agent = spawn(process.execPath, ["server.mjs"], {
    cwd: folder,
    env: {
      ...env,
      ...marketplace.env,
      PORT: String(agentPort),
      AUTH_SECRET: "guide-secret-0123456789abcdef0123456789",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (c: Buffer) => {
    agentLog += c.toString();
  };
  agent.stdout?.on("data", collect);
  agent.stderr?.on("data", collect);
  const deadline = Date.now() + 60_000;
  while (!agentLog.includes("agent on http://localhost:")) {
    if (agent.exitCode !== null) throw new Error(`server.mjs exited with ${agent.exitCode}:\n${agentLog}`);
    if (Date.now() > deadline) throw new Error(`server.mjs did not start:\n${agentLog}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}, 180_000);

describe("docs/guides/better-auth.md", () => {
  it("signs in with plain better-auth genericOAuth, keeps the role, charges, and answers 429 at the cap", {
    timeout: 120_000,
  }, async () => {
    const mp = marketplace!.env;
    const browser = new Browser(agentUrl);
    const json = { "content-type": "application/json", accept: "application/json" };
    expect((await browser.fetch(`${agentUrl}/me`, { headers: { accept: "application/json" } })).status).toBe(
      401,
    );
    // The routes the guide deliberately leaves unmounted are not there.
    const tokenLeak = await browser.fetch(`${agentUrl}/api/auth/get-access-token`, {
      method: "POST",
      headers: { ...json, origin: agentUrl },
      body: "{}",
    });
    expect(tokenLeak.status).toBe(404);

    const signIn = await browser.fetch(`${mp.MARKETPLACE_API_URL}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { ...json, origin: mp.MARKETPLACE_API_URL },
      body: JSON.stringify({ email: mp.DEMO_USER_EMAIL, password: mp.DEMO_USER_PASSWORD }),
    });
    expect(signIn.status).toBe(200);

    // What authClient.signIn.social({ provider: "marketplace", callbackURL: "/" }) sends.
    const social = await browser.fetch(`${agentUrl}/api/auth/sign-in/social`, {
      method: "POST",
      headers: { ...json, origin: agentUrl },
      body: JSON.stringify({ provider: "marketplace", callbackURL: "/" }),
    });
    expect(social.status, agentLog).toBe(200);
    const { url } = (await social.json()) as { url: string };
    expect(url.startsWith(`${mp.MARKETPLACE_ISSUER}/oauth2/authorize?`)).toBe(true);
    expect(new URL(url).searchParams.get("code_challenge_method")).toBe("S256");
    const authorize = await browser.fetch(url);
    const callback = authorize.headers.get("location");
    expect(callback?.startsWith(`${agentUrl}/api/auth/callback/marketplace?`), `${authorize.status}`).toBe(
      true,
    );
    const done = await browser.fetch(callback!);
    expect(done.status, agentLog).toBe(302);
    expect(done.headers.get("location")).toBe("/");

    const me = await browser.fetch(`${agentUrl}/me`, { headers: { accept: "application/json" } });
    expect(await me.json()).toMatchObject({ email: mp.DEMO_USER_EMAIL, marketplaceRole: "org_member" });

    const echo = () =>
      browser.fetch(`${agentUrl}/api/echo`, {
        method: "POST",
        headers: { ...json, origin: agentUrl },
        body: JSON.stringify({ text: "hi" }),
      });
    for (let i = 0; i < 2; i++) {
      const ok = await echo();
      expect(ok.status, agentLog).toBe(200);
      expect(await ok.json()).toEqual({ echo: "hi" });
    }
    const capped = await echo();
    expect(capped.status).toBe(429);
    expect(await capped.json()).toMatchObject({
      remaining: 0,
      upgradeUrl: expect.stringContaining("/pricing/"),
    });
  });
});
