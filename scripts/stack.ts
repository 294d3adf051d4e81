/**
 * One command for the whole system: `npm start` (or `npm run dev`).
 *
 * Starts the marketplace (port MARKETPLACE_PORT, default 4000) on embedded
 * PostgreSQL under .data/, seeds the demo idempotently, then starts the
 * reference agent (AGENT_PORT, default 3001) serving the built web app — or,
 * with `dev`, Vite's dev server on 5173 in front of it, with servers
 * restarting on change. Ctrl-C stops everything.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { extname, join, normalize, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { serverNodeOptions } from "../packages/marketplace/src/node-options.ts";

const ROOT = resolve(fileURLToPath(new URL("..", import.meta.url)));
const BIN = join(ROOT, "node_modules/.bin");
const mode = process.argv[2] === "dev" ? "dev" : "start";
const marketplacePort = Number(process.env.MARKETPLACE_PORT ?? 4000);
const agentPort = Number(process.env.AGENT_PORT ?? 3001);
const webPort = 5173;
const marketplaceUrl = `http://localhost:${marketplacePort}`;
const agentUrl = `http://localhost:${agentPort}`;
/** Where browsers reach the agent: the Vite dev server in dev mode (it proxies /api and /me). */
const publicAgentUrl = mode === "dev" ? `http://localhost:${webPort}` : agentUrl;
/**
 * Cross-origin mode (`CROSS_ORIGIN_WEB_PORT=5320 npm start`): the web app is built against the API's absolute
 * URL and served from its own origin; the agent answers with SameSite=None cookies and CORS for that origin.
 */
const crossOriginPort = process.env.CROSS_ORIGIN_WEB_PORT ? Number(process.env.CROSS_ORIGIN_WEB_PORT) : null;
const frontendOrigin = crossOriginPort ? `http://localhost:${crossOriginPort}` : null;
/**
 * The marketplace's web app cross-origin (`CROSS_ORIGIN_MARKETPLACE_UI_PORT=5321 npm start`): built against the
 * marketplace's absolute URL and served from its own origin; the marketplace gets MARKETPLACE_UI_ORIGIN, so it
 * answers CORS with credentials for that origin and sets SameSite=None; Secure cookies.
 */
const marketplaceUiPort = process.env.CROSS_ORIGIN_MARKETPLACE_UI_PORT
  ? Number(process.env.CROSS_ORIGIN_MARKETPLACE_UI_PORT)
  : null;
const marketplaceUiOrigin = marketplaceUiPort ? `http://localhost:${marketplaceUiPort}` : null;
/** Everything lives here; `STACK_DATA_DIR` lets tests run a stack beside the developer's. */
const dataDir = resolve(process.env.STACK_DATA_DIR ?? join(ROOT, ".data"));
const demoEnvFile = join(dataDir, "demo.env");
const children: ChildProcess[] = [];
let stopping = false;

function run(name: string, command: string, args: string[], env: Record<string, string> = {}): ChildProcess {
  const child = spawn(command, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: process.env.LOG_LEVEL ?? "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) if (line.trim()) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on("exit", (code) => {
    if (!stopping) {
      console.error(`\n${name} exited (${code ?? "signal"}); stopping.`);
      void stop(1);
    }
  });
  children.push(child);
  return child;
}

async function stop(code = 0) {
  stopping = true;
  for (const child of children) child.kill("SIGTERM");
  setTimeout(() => process.exit(code), 3_000).unref();
  await Promise.all(
    children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once("exit", r)))),
  );
  process.exit(code);
}

async function waitFor(url: string, seconds = 60) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`${url} did not become ready in ${seconds}s`);
}

function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs);
  }
  return newest;
}

/** The two web apps the stack builds: the agent's, and the marketplace's own. */
const WEB_APPS = {
  agent: {
    dir: "apps/agent/web",
    sources: ["apps/agent/web/src", "packages/agent-kit/src"],
    env: "VITE_API_BASE",
  },
  marketplace: {
    dir: "apps/marketplace-web",
    sources: ["apps/marketplace-web/src", "packages/contract/src"],
    env: "VITE_MARKETPLACE_URL",
  },
} as const;

/** Builds a web app when there is no build or the sources are newer. */
function ensureWebBuild(app: keyof typeof WEB_APPS, outDir = "dist", apiBase = ""): Promise<void> {
  const { dir, sources, env } = WEB_APPS[app];
  const dist = join(ROOT, dir, outDir, "index.html");
  // The API base is baked into the build: a build made for another URL (another port) is stale too.
  const stamp = join(ROOT, dir, outDir, ".api-base");
  const newest = Math.max(...sources.map((source) => newestMtime(join(ROOT, source))));
  const sameBase = existsSync(stamp) ? readFileSync(stamp, "utf8") === apiBase : apiBase === "";
  if (existsSync(dist) && statSync(dist).mtimeMs > newest && sameBase) return Promise.resolve();
  console.log(`Building the ${app}'s web app…`);
  return new Promise((resolveBuild, reject) => {
    const args = ["build", dir, "--logLevel", "warn", "--outDir", join(ROOT, dir, outDir)];
    const build = spawn(join(BIN, "vite"), args, {
      cwd: ROOT,
      stdio: "inherit",
      env: { ...process.env, [env]: apiBase },
    });
    build.on("exit", (code) => {
      if (code !== 0) return reject(new Error(`${app} web build failed (${code})`));
      writeFileSync(stamp, apiBase);
      resolveBuild();
    });
  });
}

/** A minimal static server for the cross-origin web app (single-page: unknown paths get index.html). */
function serveStatic(dir: string, port: number) {
  const types: Record<string, string> = {
    ".html": "text/html",
    ".js": "text/javascript",
    ".css": "text/css",
    ".map": "application/json",
  };
  const server = createServer((req, res) => {
    const path = normalize(decodeURIComponent(new URL(req.url ?? "/", "http://x").pathname)).replace(
      /^(\.\.[/\\])+/,
      "",
    );
    let file = join(dir, path);
    if (!file.startsWith(dir) || !existsSync(file) || statSync(file).isDirectory())
      file = join(dir, "index.html");
    try {
      const body = readFileSync(file);
      res.writeHead(200, { "content-type": types[extname(file)] ?? "application/octet-stream" }).end(body);
    } catch {
      res.writeHead(404).end("not found");
    }
  });
  server.listen(port, "127.0.0.1");
}

function readEnvFile(file: string): Record<string, string> {
  return Object.fromEntries(
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

async function main() {
  process.once("SIGINT", () => void stop(0));
  process.once("SIGTERM", () => void stop(0));
  // Started by a test harness with a pipe on stdin: when that parent is gone (even killed with SIGKILL, which
  // sends no signal here), the pipe closes and the servers stop with it instead of outliving the test run.
  if (process.env.STACK_STOP_ON_STDIN_END === "1") {
    process.stdin.once("close", () => void stop(0));
    process.stdin.resume();
  }
  mkdirSync(dataDir, { recursive: true });
  const started = performance.now();
  // One build at a time (two cores); the marketplace serves its app as soon as the build lands.
  const build =
    mode !== "start"
      ? ensureWebBuild("marketplace")
      : (frontendOrigin
          ? ensureWebBuild("agent", "dist-cross-origin", agentUrl)
          : ensureWebBuild("agent")
        ).then(() =>
          marketplaceUiOrigin
            ? ensureWebBuild("marketplace", "dist-cross-origin", marketplaceUrl)
            : ensureWebBuild("marketplace"),
        );

  const watch = mode === "dev" ? ["watch"] : [];
  rmSync(demoEnvFile, { force: true });
  run(
    "marketplace",
    join(BIN, "tsx"),
    [
      ...watch,
      "packages/marketplace/src/cli.ts",
      "serve",
      "--seed-demo",
      "--agent-origin",
      publicAgentUrl,
      "--demo-env-file",
      demoEnvFile,
    ],
    {
      MARKETPLACE_PORT: String(marketplacePort),
      MARKETPLACE_DATA_DIR: join(dataDir, "marketplace"),
      NODE_OPTIONS: serverNodeOptions(),
      // The local demo buys Pro without Stripe; the marketplace refuses this behind https or in production.
      DEV_CHECKOUT: process.env.DEV_CHECKOUT ?? "on",
      ...(marketplaceUiOrigin ? { MARKETPLACE_UI_ORIGIN: marketplaceUiOrigin } : {}),
    },
  );
  await waitFor(`${marketplaceUrl}/ready`);
  while (!existsSync(demoEnvFile)) await new Promise((r) => setTimeout(r, 100));
  await build;

  run("agent", join(BIN, "tsx"), [...watch, "apps/agent/server/main.ts"], {
    ...readEnvFile(demoEnvFile),
    AGENT_PORT: String(agentPort),
    AGENT_DATA_DIR: join(dataDir, "agent"),
    NODE_OPTIONS: serverNodeOptions(),
    MARKETPLACE_API_URL: marketplaceUrl,
    BACKEND_URL: publicAgentUrl,
    ...(frontendOrigin ? { FRONTEND_ORIGIN: frontendOrigin } : {}),
  });
  await waitFor(`${agentUrl}/ready`);
  if (crossOriginPort) serveStatic(join(ROOT, "apps/agent/web/dist-cross-origin"), crossOriginPort);
  if (marketplaceUiPort) serveStatic(join(ROOT, "apps/marketplace-web/dist-cross-origin"), marketplaceUiPort);
  if (mode === "dev") {
    run("web", join(BIN, "vite"), ["apps/agent/web", "--port", String(webPort), "--strictPort"], {
      AGENT_URL: agentUrl,
    });
    await waitFor(publicAgentUrl);
  }
  console.log(`
  Ready in ${((performance.now() - started) / 1000).toFixed(1)} s.

  Open the agent:      ${frontendOrigin ?? publicAgentUrl}${frontendOrigin ? `   (cross-origin: API at ${agentUrl})` : ""}
  The marketplace:     ${marketplaceUiOrigin ?? marketplaceUrl}  (catalog, agent pages, your account; API docs: ${marketplaceUrl}/docs)

  Demo user:           demo@example.com / demo-password   (on the Free plan)
  Platform admin:      admin@example.com / admin-password

  Data lives in .data/ (npm run reset wipes it). Ctrl-C stops everything.
`);
}

main().catch((error: unknown) => {
  console.error(error);
  void stop(1);
});
