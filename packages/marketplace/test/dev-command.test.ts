import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { type DevProcess, startDev } from "./support/dev-process.ts";

const CLI = new URL("../src/cli.ts", import.meta.url).pathname;
/** tsx resolved from here: the CLI runs in a temp folder that has no node_modules. */
const TSX = import.meta.resolve("tsx");
const cwd = mkdtempSync(join(tmpdir(), "amp-dev-"));
const running: DevProcess[] = [];
// A builder's own settings must not leak into the development marketplace: this URL would fail to connect.
const env = { ...process.env, DATABASE_URL: "postgres://nobody@127.0.0.1:1/none", LOG_LEVEL: "warn" };

export const ECHO_AGENT_YAML = `agent:
  name: Echo Agent
  slug: echo
  tagline: Repeats what you say.
  description: A minimal agent that charges one message per request.
  status: active
  productDomain: http://localhost:3001
  redirectUris:
    - http://localhost:3001/api/auth/oauth2/callback/marketplace
  postLogoutRedirectUris:
    - http://localhost:3001/
metrics:
  - slug: messages
    displayName: Messages
    unit: messages
    kind: rolling
tiers:
  - tierName: Free
    isFree: true
    price: "0.00"
    currency: USD
    billingInterval: month
    quotas:
      messages: 3
`;
writeFileSync(join(cwd, "agent.yaml"), ECHO_AGENT_YAML);

const dev = async (...args: string[]) => {
  const proc = await startDev(process.execPath, ["--import", TSX, CLI, "dev", ...args], { cwd, env });
  running.push(proc);
  return proc;
};

afterAll(async () => {
  await Promise.all(running.map((p) => p.stop()));
  rmSync(cwd, { recursive: true, force: true });
});

describe("marketplace dev", () => {
  it("registers the agent, seeds the demo users and prints the agent's env; a restart keeps the ids", {
    timeout: 180_000,
  }, async () => {
    const first = await dev("--agent", "agent.yaml", "--port", "0", "--write-env", "agent.env");
    const { env: printed } = first;
    expect(printed.AGENT_SLUG).toBe("echo");
    expect(printed.OAUTH_CLIENT_ID).toMatch(/^[\w-]{32}$/);
    expect(printed.MARKETPLACE_ISSUER).toBe(`${printed.MARKETPLACE_API_URL}/api/auth`);
    // stdout is only the env block (logs go to stderr), so `> .env` works; --write-env writes the same lines.
    expect(first.stdout().trim().split("\n")).toHaveLength(9);
    expect(existsSync(join(cwd, ".marketplace/pg"))).toBe(true);
    expect(existsSync(join(cwd, "agent.env"))).toBe(true);

    const discovery = await fetch(`${printed.MARKETPLACE_ISSUER}/.well-known/openid-configuration`);
    expect(((await discovery.json()) as { issuer: string }).issuer).toBe(printed.MARKETPLACE_ISSUER);
    const signIn = await fetch(`${printed.MARKETPLACE_API_URL}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: printed.MARKETPLACE_API_URL },
      body: JSON.stringify({ email: printed.DEMO_USER_EMAIL, password: printed.DEMO_USER_PASSWORD }),
    });
    expect(signIn.status).toBe(200);
    const agent = await fetch(`${printed.MARKETPLACE_API_URL}/agents/by-slug/${printed.AGENT_SLUG}`);
    expect(agent.status).toBe(200);
    await first.stop();

    const second = await dev("--agent", "agent.yaml", "--port", "0");
    expect(second.env.AGENT_ID).toBe(printed.AGENT_ID);
    expect(second.env.OAUTH_CLIENT_ID).toBe(printed.OAUTH_CLIENT_ID);
    await second.stop();
  });

  it("refuses an invalid registration before starting, naming the field", { timeout: 60_000 }, async () => {
    writeFileSync(join(cwd, "bad.yaml"), ECHO_AGENT_YAML.replace("kind: rolling", "kind: hourly"));
    const failure = await promisify(execFile)(
      process.execPath,
      ["--import", TSX, CLI, "dev", "--agent", "bad.yaml", "--port", "0"],
      { cwd, env },
    ).catch((error: { code: number; stderr: string }) => error);
    expect(failure).toMatchObject({ code: 1 });
    expect((failure as { stderr: string }).stderr).toContain("metrics.0.kind");
  });
});
