import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type Browser, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { type DevProcess, startDev } from "../packages/marketplace/test/support/dev-process.ts";

const run = promisify(execFile);

export const CHROMIUM = "/usr/bin/chromium";
export const hasChromium = existsSync(CHROMIUM);
/**
 * Locally, no Chromium means the browser suite is skipped; in CI (`CI` set, as
 * `.ci/run` and every hosted CI do) it runs regardless and fails loudly, so the
 * suite can never disappear from a green build.
 */
export const runBrowser = hasChromium || Boolean(process.env.CI);
const ROOT = new URL("..", import.meta.url).pathname;

/**
 * `marketplace dev --agent agent.yaml` from this repository's sources (tsx) in `folder`, on a free port: what
 * the guides' tests run where the SDK quick start runs the packed tarball's bin.
 */
export async function devMarketplaceFromSource(
  folder: string,
  env: NodeJS.ProcessEnv,
  extraArgs: string[] = [],
): Promise<DevProcess> {
  const cli = join(ROOT, "packages/marketplace/src/cli.ts");
  const port = String(await freePort());
  const tsx = import.meta.resolve("tsx");
  return startDev(
    process.execPath,
    ["--import", tsx, cli, "dev", "--agent", "agent.yaml", "--port", port, ...extraArgs],
    { cwd: folder, env },
  );
}

/** Stops a child process of a test (SIGTERM) and waits for it, if it is still running. */
export async function stopChild(child: ChildProcess | undefined) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await exited;
}

export interface StackOptions {
  marketplacePort?: number;
  agentPort?: number;
  env?: Record<string, string>;
  /** How long the stack may take to print "Ready" (a first build of a web app is the slow part). @default 90_000 */
  readyTimeoutMs?: number;
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** Runs exactly what `npm start` runs (scripts/stack.ts), on spare ports and a throwaway data directory. */
export async function startStack(opts: StackOptions = {}) {
  const marketplacePort = opts.marketplacePort ?? (await freePort());
  const agentPort = opts.agentPort ?? (await freePort());
  const dataDir = mkdtempSync(join(tmpdir(), "amp-e2e-"));
  const output: string[] = [];
  const child: ChildProcess = spawn(join(ROOT, "node_modules/.bin/tsx"), ["scripts/stack.ts", "start"], {
    cwd: ROOT,
    env: {
      ...process.env,
      STACK_DATA_DIR: dataDir,
      MARKETPLACE_PORT: String(marketplacePort),
      AGENT_PORT: String(agentPort),
      LOG_LEVEL: "warn",
      // The stack stops when this process's end of the pipe closes, should the test worker die before stop().
      STACK_STOP_ON_STDIN_END: "1",
      ...opts.env,
    },
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  child.stdout!.on("data", (c) => output.push(String(c)));
  child.stderr!.on("data", (c) => output.push(String(c)));
  const agentUrl = `http://localhost:${agentPort}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (output.join("").includes("Ready in")) break;
    if (child.exitCode !== null || Date.now() > deadline)
      throw new Error(`stack did not start:\n${output.join("")}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    agentUrl,
    marketplaceUrl: `http://localhost:${marketplacePort}`,
    output,
    /** Closes the stack's stdin as the death of this process would; resolves when the stack has exited. */
    async orphan() {
      child.stdin!.destroy();
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
    /** Resident memory (MB) of each server in the stack, by its entry script (marketplace, agent). */
    async rss(): Promise<Record<string, number>> {
      const { stdout } = await run("ps", ["-o", "rss=,args=", "-g", String(child.pid)]);
      const out: Record<string, number> = {};
      for (const line of stdout.trim().split("\n")) {
        const [, kb, args] = line.trim().match(/^(\d+)\s+(.*)$/) ?? [];
        // The node processes tsx starts (tsx's own wrapper process is small and holds no server).
        const server = args?.includes("marketplace/src/cli.ts")
          ? "marketplace"
          : args?.includes("apps/agent/server/main.ts")
            ? "agent"
            : undefined;
        if (server) out[server] = Math.max(out[server] ?? 0, Math.round(Number(kb) / 1024));
      }
      return out;
    },
    async stop() {
      if (child.pid) process.kill(-child.pid, "SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r(null) : child.once("exit", r)));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A describe block's `npm start` stack and Chromium: started in its beforeAll, stopped in its afterAll. Read
 * `.stack` and `.browser` in tests and later hooks. `options` runs inside the beforeAll (it may pick ports).
 */
export function browserStack(
  options: () => StackOptions | Promise<StackOptions> = () => ({}),
  timeoutMs = 240_000,
) {
  const fixture = {} as { stack: Stack; browser: Browser };
  beforeAll(async () => {
    fixture.stack = await startStack(await options());
    fixture.browser = await launchChromium();
  }, timeoutMs);
  afterAll(async () => {
    await fixture.browser?.close();
    await fixture.stack?.stop();
  });
  return fixture;
}

/** How far the page scrolls sideways (px): 0 or less when it fits its viewport. */
export const sideways = (page: Page) =>
  page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
    ],
  });
}

/** A port nothing listens on right now, so parallel runs (and a stray `npm start`) never collide. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
