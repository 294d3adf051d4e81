/**
 * `npm run bench`: every scenario of the benchmark plan, each with its baseline measured in the same run, written
 * to bench/results/latest.{md,json}. Load comes from this process (autocannon) against servers in child processes,
 * all on 127.0.0.1. BENCH_DATABASE_URL names a PostgreSQL server (default postgres://postgres@127.0.0.1:5432);
 * a fresh database is created there and dropped afterwards. BENCH_SECONDS sets each run's length (default 5).
 */
import { createHmac, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import pg from "pg";
import { openDatabase } from "../packages/marketplace/src/db/database.ts";
import { migrate } from "../packages/marketplace/src/db/migrate.ts";
import { serverNodeOptions } from "../packages/marketplace/src/node-options.ts";
import { Browser } from "../packages/marketplace/test/support/oauth.ts";
import {
  load,
  percentile,
  pgbench,
  ROOT,
  round,
  rssMb,
  serverPid,
  startProcess,
  stopProcess,
  waitFor,
} from "./lib.ts";
import { overSpend, seedBench, USERS } from "./seed.ts";

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = [16, 32, 64];
const BATCHED_PER_TRANSACTION = 10;
/** Users with a session of their own in the agent scenarios' spread runs (issue 13: ≥ 1,000). */
const AGENT_USERS = Number(process.env.BENCH_AGENT_USERS ?? 1_000);
const BENCH_AUTH_SECRET = randomBytes(32).toString("base64url");
/** The PostgreSQL server to create throwaway databases on (any database path in the URL is ignored). */
const SERVER = (() => {
  const u = new URL(process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  const auth = u.username ? `${u.username}${u.password ? `:${u.password}` : ""}@` : "";
  return `${u.protocol}//${auth}${u.host}`;
})();
const MP_PORT = 4410;
const AGENT_PORT = 3410;
const HONO_PORT = 4411;
const results: Record<string, unknown> = { date: new Date().toISOString(), seconds: SECONDS, users: USERS };
const rows: string[] = [];
const log = (s: string) => console.log(s);

export async function withPostgresDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `amp_bench_${Date.now()}_${Math.floor(Math.random() * 1e6)}`;
  const admin = new pg.Client({ connectionString: `${SERVER}/postgres` });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  try {
    return await fn(`${SERVER}/${name}`);
  } finally {
    const drop = new pg.Client({ connectionString: `${SERVER}/postgres` });
    await drop.connect();
    await drop.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await drop.end();
  }
}

/** Scenario 1: consume through the whole marketplace stack, spread over USERS users and on one hot row. */
export async function consumeScenario(
  backend: "postgres" | "pglite",
  target: { url: string } | { dataDir: string },
) {
  const seedDb = await openDatabase(target);
  await migrate(seedDb.sql);
  const { agent, tokens } = await seedBench(seedDb, `http://localhost:${AGENT_PORT}`);
  if (backend === "pglite") await seedDb.close();
  const server = startProcess(["packages/marketplace/src/cli.ts", "serve"], {
    NODE_OPTIONS: serverNodeOptions(),
    MARKETPLACE_PORT: String(MP_PORT),
    RATE_LIMIT: "off",
    ...("url" in target
      ? { DATABASE_URL: target.url, DATABASE_POOL_SIZE: "20" }
      : { MARKETPLACE_DATA_DIR: target.dataDir.replace(/\/pg$/, "") }),
  });
  await waitFor(`http://127.0.0.1:${MP_PORT}/ready`, server);
  const url = `http://127.0.0.1:${MP_PORT}/me/agents/${agent.id}/usage/messages/consume`;
  const body = () => JSON.stringify({ delta: 1, clientReqId: randomUUID() });
  let acknowledged = 0;
  const out: Record<string, unknown> = {};
  // Warm-up: connection pool, token cache, JIT.
  await load({
    url,
    connections: 16,
    seconds: 2,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    headersFor: () => ({ authorization: `Bearer ${tokens[Math.floor(Math.random() * USERS)]}` }),
  }).then((r) => (acknowledged += r.ok));
  for (const shape of ["spread", "hot"] as const) {
    for (const c of CONNECTIONS) {
      const r = await load({
        url,
        connections: c,
        seconds: SECONDS,
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        headersFor: () => ({
          authorization: `Bearer ${shape === "hot" ? tokens[0] : tokens[Math.floor(Math.random() * USERS)]}`,
        }),
      });
      acknowledged += r.ok;
      out[`${shape}@${c}`] = r;
      log(
        `consume ${backend} ${shape} c=${c}: ${r.rps} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors + r.non2xx}`,
      );
    }
  }
  const rss = rssMb(serverPid(server.pid!));
  await stopProcess(server);
  const checkDb = backend === "pglite" ? await openDatabase(target) : seedDb;
  const spend = await overSpend(checkDb, agent.id, acknowledged);
  return { out, rss, spend, agent, db: checkDb };
}

async function honoBaseline() {
  const server = startProcess(["bench/hono-baseline.ts"], { PORT: String(HONO_PORT) });
  while (!server.output.join("").includes("ready")) await new Promise((r) => setTimeout(r, 50));
  const out: Record<number, unknown> = {};
  for (const c of CONNECTIONS) {
    out[c] = await load({
      url: `http://127.0.0.1:${HONO_PORT}/consume`,
      connections: c,
      seconds: SECONDS,
      method: "POST",
      headers: { "content-type": "application/json" },
      body: () => JSON.stringify({ delta: 1, clientReqId: randomUUID() }),
    });
  }
  await stopProcess(server);
  return out as Record<number, Awaited<ReturnType<typeof load>>>;
}

/**
 * Scenarios 2–4 and 6 (agent): chargeable overhead, tier reads, sign-in round trip, RSS. The marketplace and
 * the agent each get a database of their own on the PostgreSQL server.
 */
export async function agentScenarios(databaseUrl: string, agentDatabaseUrl: string) {
  const dataDir = mkdtempSync(join(tmpdir(), "amp-bench-agent-"));
  const demoEnvFile = join(dataDir, "demo.env");
  const mp = startProcess(
    [
      "packages/marketplace/src/cli.ts",
      "serve",
      "--seed-demo",
      "--agent-origin",
      `http://localhost:${AGENT_PORT}`,
      "--demo-env-file",
      demoEnvFile,
    ],
    {
      NODE_OPTIONS: serverNodeOptions(),
      MARKETPLACE_PORT: String(MP_PORT),
      RATE_LIMIT: "off",
      DEV_CHECKOUT: "on",
      DATABASE_URL: databaseUrl,
      // Known to the bench, which signs the session cookies of the many users it seeds (spreadSessions).
      AUTH_SECRET: BENCH_AUTH_SECRET,
    },
  );
  await waitFor(`http://127.0.0.1:${MP_PORT}/ready`, mp);
  while (!existsSync(demoEnvFile)) await new Promise((r) => setTimeout(r, 100));
  const demoEnv = Object.fromEntries(
    readFileSync(demoEnvFile, "utf8")
      .split("\n")
      .filter(Boolean)
      .map((l) => l.split("=") as [string, string]),
  );
  // Unlimited quotas, so no run is cut short by a 429.
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  await db.query(`UPDATE tier_metric_quotas SET "quotaLimit" = NULL`);
  await db.end();

  const agent = startProcess(["bench/agent-server.ts"], {
    ...demoEnv,
    NODE_OPTIONS: serverNodeOptions(),
    AGENT_DATABASE_URL: agentDatabaseUrl,
    AGENT_PORT: String(AGENT_PORT),
    MARKETPLACE_API_URL: `http://localhost:${MP_PORT}`,
    BACKEND_URL: `http://localhost:${AGENT_PORT}`,
  });
  await waitFor(`http://127.0.0.1:${AGENT_PORT}/ready`, agent);
  const browser = new Browser(`http://localhost:${AGENT_PORT}`);
  const mpJson = {
    "content-type": "application/json",
    accept: "application/json",
    origin: `http://localhost:${MP_PORT}`,
  };
  await browser.fetch(`http://localhost:${MP_PORT}/api/auth/sign-up/email`, {
    method: "POST",
    headers: mpJson,
    body: JSON.stringify({
      email: `bench-${Date.now()}@example.com`,
      password: "bench-password-1",
      name: "Bench",
    }),
  });
  const signIn = async () => {
    const start = await browser.fetch("/api/auth/sign-in/marketplace");
    const authorize = await browser.fetch(start.headers.get("location")!);
    await browser.fetch(authorize.headers.get("location")!);
  };
  await signIn();
  const tiers = (await (await fetch(`http://localhost:${MP_PORT}/agents/${demoEnv.AGENT_ID}/pricing`)).json())
    .data as { id: string; isFree: boolean }[];
  await browser.fetch(
    `http://localhost:${MP_PORT}/agents/${demoEnv.AGENT_ID}/pricing/${tiers.find((t) => t.isFree)!.id}/checkout`,
    {
      method: "POST",
      headers: mpJson,
      body: JSON.stringify({ returnUrl: `http://localhost:${AGENT_PORT}/` }),
    },
  );
  const cookie = [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
  const headers = { cookie, "content-type": "application/json", origin: `http://localhost:${AGENT_PORT}` };

  await load({
    url: `http://127.0.0.1:${AGENT_PORT}/api/chat`,
    connections: 8,
    seconds: 1,
    method: "POST",
    headers,
  });
  const plain = await load({
    url: `http://127.0.0.1:${AGENT_PORT}/api/plain`,
    connections: 32,
    seconds: SECONDS,
    method: "POST",
    headers,
  });
  const charged = await load({
    url: `http://127.0.0.1:${AGENT_PORT}/api/chat`,
    connections: 32,
    seconds: SECONDS,
    method: "POST",
    headers,
  });
  await load({
    url: `http://127.0.0.1:${AGENT_PORT}/api/me/tier`,
    connections: 8,
    seconds: 1,
    headers: { cookie },
  });
  const tier = await load({
    url: `http://127.0.0.1:${AGENT_PORT}/api/me/tier`,
    connections: 32,
    seconds: SECONDS,
    headers: { cookie },
  });
  log(
    `agent plain ${plain.rps} req/s p50 ${plain.p50}; chargeable ${charged.rps} req/s p50 ${charged.p50} (non-2xx ${charged.non2xx}); tier ${tier.rps} req/s`,
  );

  // The same two endpoints with AGENT_USERS users, each with a session of their own on the agent (the
  // one-user runs above are the hot case: every charge queues on one counter row).
  const freeTier = tiers.find((t) => t.isFree)!.id;
  const spreadCookies = await spreadSessions(databaseUrl, demoEnv.AGENT_ID!, freeTier);
  const spreadHeaders = () => ({ cookie: spreadCookies[Math.floor(Math.random() * spreadCookies.length)]! });
  const spreadRun = (path: string, seconds: number, connections = 32) =>
    load({
      url: `http://127.0.0.1:${AGENT_PORT}${path}`,
      connections,
      seconds,
      method: "POST",
      headers: { "content-type": "application/json", origin: `http://localhost:${AGENT_PORT}` },
      headersFor: spreadHeaders,
    });
  await spreadRun("/api/chat", 1);
  const spread = {
    plain: await spreadRun("/api/plain", SECONDS),
    charged: await spreadRun("/api/chat", SECONDS),
  };
  log(
    `agent spread over ${spreadCookies.length} users: plain ${spread.plain.rps} req/s p50 ${spread.plain.p50}; chargeable ${spread.charged.rps} req/s p50 ${spread.charged.p50} (non-2xx ${spread.charged.non2xx + spread.plain.non2xx})`,
  );
  // The same pair one request at a time: what a charge costs when neither server is saturated.
  const unloaded = {
    plain: await spreadRun("/api/plain", SECONDS, 1),
    charged: await spreadRun("/api/chat", SECONDS, 1),
  };
  log(
    `agent spread, one connection: plain p50 ${unloaded.plain.p50} ms; chargeable p50 ${unloaded.charged.p50} ms`,
  );

  const rounds: number[] = [];
  for (let i = 0; i < 50; i++) {
    const started = performance.now();
    await signIn();
    rounds.push(performance.now() - started);
  }
  rounds.sort((a, b) => a - b);
  const rss = { marketplace: rssMb(serverPid(mp.pid!)), agent: rssMb(serverPid(agent.pid!)) };
  await stopProcess(agent);
  await stopProcess(mp);
  rmSync(dataDir, { recursive: true, force: true });
  return {
    plain,
    charged,
    spread: { users: spreadCookies.length, ...spread, unloaded },
    tier,
    signIn: { p50: round(percentile(rounds, 50)), p99: round(percentile(rounds, 99)) },
    rss,
  };
}

/**
 * AGENT_USERS users signed in to the agent, each through the real OAuth flow (agent → marketplace
 * authorize → agent callback: a session and a marketplace grant of their own) and subscribed to the free
 * tier. Their marketplace accounts and sessions are written straight into the marketplace's database
 * (a password sign-up per user would spend minutes in scrypt); the session cookie is signed with the
 * AUTH_SECRET the bench gave the marketplace, as better-auth signs it. Returns each user's agent cookie.
 */
async function spreadSessions(databaseUrl: string, agentId: string, tierId: string): Promise<string[]> {
  const tokens = Array.from({ length: AGENT_USERS }, () => randomBytes(24).toString("base64url"));
  const db = new pg.Client({ connectionString: databaseUrl });
  await db.connect();
  try {
    await db.query(
      `WITH u AS (
         INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt", "role")
         SELECT 'spread-user-' || t.n, 'Spread ' || t.n, 'spread' || t.n || '@example.com', true, now(), now(), 'org_member'
           FROM unnest($1::text[]) WITH ORDINALITY AS t(token, n)
         RETURNING "id"),
       s AS (
         INSERT INTO "session" ("id", "token", "userId", "expiresAt", "createdAt", "updatedAt")
         SELECT gen_random_uuid()::text, t.token, 'spread-user-' || t.n, now() + interval '1 day', now(), now()
           FROM unnest($1::text[]) WITH ORDINALITY AS t(token, n))
       INSERT INTO "user_agent_subscriptions" ("id", "userId", "agentId", "tierId", "status")
       SELECT gen_random_uuid()::text, u."id", $2, $3, 'active' FROM u`,
      [tokens, agentId, tierId],
    );
  } finally {
    await db.end();
  }
  const cookies: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < tokens.length) {
        const token = tokens[next++]!;
        const signature = createHmac("sha256", BENCH_AUTH_SECRET).update(token).digest("base64");
        const browser = new Browser(`http://localhost:${AGENT_PORT}`);
        browser.cookies.set("marketplace.session_token", encodeURIComponent(`${token}.${signature}`));
        const start = await browser.fetch("/api/auth/sign-in/marketplace");
        const authorize = await browser.fetch(start.headers.get("location")!);
        const callback = await browser.fetch(authorize.headers.get("location")!);
        if (callback.status >= 400 || !authorize.headers.get("location")?.includes("code="))
          throw new Error(
            `spread sign-in failed: authorize ${authorize.status}, callback ${callback.status}`,
          );
        browser.cookies.delete("marketplace.session_token");
        cookies.push([...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
      }
    }),
  );
  return cookies;
}

/** Scenario 5: `npm start` from a stopped state with data present, to both servers ready. */
async function coldStart() {
  const dataDir = mkdtempSync(join(tmpdir(), "amp-bench-cold-"));
  const env = { STACK_DATA_DIR: dataDir, MARKETPLACE_PORT: "4430", AGENT_PORT: "3430" };
  const startOnce = async () => {
    const started = performance.now();
    const child = startProcess(["scripts/stack.ts", "start"], env);
    while (!child.output.join("").includes("Ready in")) {
      if (child.exitCode !== null) throw new Error(child.output.join(""));
      await new Promise((r) => setTimeout(r, 50));
    }
    const ms = performance.now() - started;
    process.kill(child.pid!, "SIGTERM");
    await new Promise((r) => child.once("exit", r));
    await new Promise((r) => setTimeout(r, 500));
    return ms;
  };
  await startOnce(); // creates the data and the web build
  const ms = await startOnce();
  rmSync(dataDir, { recursive: true, force: true });
  return round(ms / 1000);
}

const fmt = (r: { rps: number; p50: number; p99: number }) =>
  `${r.rps.toLocaleString("en")} | ${r.p50} | ${r.p99}`;

async function main() {
  log(`benchmark: ${SECONDS}s per run, ${USERS} users, connections ${CONNECTIONS.join("/")}`);
  const hono = await honoBaseline();
  results.hono = hono;

  await withPostgresDatabase(async (url) => {
    const consume = await consumeScenario("postgres", { url });
    const baselines: Record<string, unknown> = {};
    const batched: Record<string, unknown> = {};
    for (const shape of ["spread", "hot"] as const) {
      for (const c of CONNECTIONS) {
        const opts = {
          url,
          agentId: consume.agent.id,
          users: shape === "hot" ? 1 : USERS,
          connections: c,
          seconds: SECONDS,
        };
        baselines[`${shape}@${c}`] = await pgbench(opts);
        // The second reference: ten consumes per transaction (what group commit can reach at best).
        batched[`${shape}@${c}`] = await pgbench({ ...opts, perTransaction: BATCHED_PER_TRANSACTION });
      }
    }
    // Over-spend check after every run above, pgbench's included: every counter equals its ledger.
    const after = await overSpend(consume.db, consume.agent.id, 0);
    await consume.db.close();
    results.postgres = {
      ...consume,
      db: undefined,
      agent: undefined,
      pgbench: baselines,
      pgbenchBatched: { perTransaction: BATCHED_PER_TRANSACTION, ...batched },
    };
    rows.push("", "### 1. Consume through the whole marketplace stack — PostgreSQL 15", "");
    rows.push(
      `ratio = marketplace req/s ÷ pgbench running \`usage_consume\` one per transaction (goal ≥ 200 %); batched = pgbench with ${BATCHED_PER_TRANSACTION} consumes per transaction in one statement, in consumes/s (p50/p99 per transaction).`,
      "",
      "| shape | conns | marketplace req/s | p50 ms | p99 ms | pgbench tps | p50 ms | p99 ms | ratio | batched consumes/s | p50 ms | p99 ms | ratio | errors |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    );
    for (const key of Object.keys(consume.out)) {
      const r = consume.out[key] as Awaited<ReturnType<typeof load>>;
      const b = baselines[key] as { rps: number; p50: number; p99: number };
      const bb = batched[key] as { rps: number; p50: number; p99: number };
      const [shape, c] = key.split("@");
      rows.push(
        `| ${shape} | ${c} | ${fmt(r)} | ${fmt(b)} | ${Math.round((r.rps / b.rps) * 100)} % | ${fmt(bb)} | ${Math.round((r.rps / bb.rps) * 100)} % | ${r.errors + r.non2xx} |`,
      );
    }
    log(
      `over-spend (PostgreSQL): counter − ledger = ${consume.spend.counterMinusLedger} after the marketplace runs, ${after.counterMinusLedger} after pgbench; ledger rows − acknowledged = ${consume.spend.ledgerMinusAcknowledged}; duplicate ledger rows = ${consume.spend.duplicateRows}`,
    );
    rows.push(
      "",
      `Over-spend: counter − ledger = **${consume.spend.counterMinusLedger}** after the marketplace runs (**${after.counterMinusLedger}** after pgbench too); ledger rows − acknowledged = ${consume.spend.ledgerMinusAcknowledged} (requests in flight when a run stopped: applied once, not acknowledged); clientReqIds with more than one ledger row: ${consume.spend.duplicateRows}. Marketplace RSS after the runs: ${consume.rss} MB.`,
    );
  });

  const pgliteDir = mkdtempSync(join(tmpdir(), "amp-bench-pglite-"));
  const lite = await consumeScenario("pglite", { dataDir: join(pgliteDir, "pg") });
  await lite.db.close();
  rmSync(pgliteDir, { recursive: true, force: true });
  results.pglite = { ...lite, db: undefined, agent: undefined };
  rows.push("", "### 1b. The same on embedded PGlite (no pgbench baseline: PGlite is in-process)", "");
  rows.push("| shape | conns | req/s | p50 ms | p99 ms | errors |", "|---|---|---|---|---|---|");
  for (const [key, r] of Object.entries(lite.out) as [string, Awaited<ReturnType<typeof load>>][]) {
    const [shape, c] = key.split("@");
    rows.push(`| ${shape} | ${c} | ${fmt(r)} | ${r.errors + r.non2xx} |`);
  }
  rows.push(
    "",
    `Over-spend: counter − ledger = **${lite.spend.counterMinusLedger}**; ledger rows − acknowledged = ${lite.spend.ledgerMinusAcknowledged}; clientReqIds with more than one ledger row: ${lite.spend.duplicateRows}. RSS: ${lite.rss} MB.`,
  );

  rows.push(
    "",
    "### Baseline: a bare Hono route parsing the same JSON body",
    "",
    "| conns | req/s | p50 ms | p99 ms |",
    "|---|---|---|---|",
  );
  for (const c of CONNECTIONS) rows.push(`| ${c} | ${fmt(hono[c]!)} |`);

  const agent = await withPostgresDatabase((marketplaceUrl) =>
    withPostgresDatabase((agentUrl) => agentScenarios(marketplaceUrl, agentUrl)),
  );
  results.agent = agent;
  rows.push(
    "",
    "### 2–4, 6. Agent (Express + agent-kit; the agent's storage and the marketplace on PostgreSQL), 32 connections; one user unless stated",
    "",
    "| scenario | req/s | p50 ms | p99 ms |",
    "|---|---|---|---|",
    `| same endpoint without \`chargeable()\` | ${fmt(agent.plain)} |`,
    `| with \`chargeable("messages")\` | ${fmt(agent.charged)} |`,
    `| same endpoint without \`chargeable()\`, ${agent.spread.users.toLocaleString("en")} users with their own sessions | ${fmt(agent.spread.plain)} |`,
    `| with \`chargeable("messages")\`, ${agent.spread.users.toLocaleString("en")} users | ${fmt(agent.spread.charged)} |`,
    `| same endpoint without \`chargeable()\`, ${agent.spread.users.toLocaleString("en")} users, one connection (neither server saturated) | ${fmt(agent.spread.unloaded.plain)} |`,
    `| with \`chargeable("messages")\`, ${agent.spread.users.toLocaleString("en")} users, one connection | ${fmt(agent.spread.unloaded.charged)} |`,
    `| \`GET /api/me/tier\`, warm cache | ${fmt(agent.tier)} |`,
    `| sign-in round trip (authorize → callback → session), sequential | — | ${agent.signIn.p50} | ${agent.signIn.p99} |`,
    "",
    `chargeable adds ${round(agent.spread.charged.p50 - agent.spread.plain.p50)} ms at p50 over ${agent.spread.users.toLocaleString("en")} users (goal ≤ 2 ms) and keeps ${Math.round((agent.spread.charged.rps / agent.spread.plain.rps) * 100)} % of the throughput; with one user (hot: every charge on one counter row) ${round(agent.charged.p50 - agent.plain.p50)} ms and ${Math.round((agent.charged.rps / agent.plain.rps) * 100)} %. One request at a time (no queueing at the marketplace), a charge adds ${round(agent.spread.unloaded.charged.mean - agent.spread.unloaded.plain.mean)} ms (mean latency). RSS: marketplace ${agent.rss.marketplace} MB, agent ${agent.rss.agent} MB.`,
  );

  const cold = await coldStart();
  results.coldStartSeconds = cold;
  rows.push("", `### 5. Cold start: \`npm start\` with data present to both servers ready: **${cold} s**`);

  const md = [
    `## Benchmark results (${results.date}, ${SECONDS} s per run, ${USERS} users, 2-core machine)`,
    ...rows,
    "",
  ].join("\n");
  writeFileSync(join(ROOT, "bench/results/latest.md"), md);
  writeFileSync(join(ROOT, "bench/results/latest.json"), JSON.stringify(results, null, 2));
  log(`\n${md}`);
}

// Run when started (`npm run bench`), not when a scenario is imported on its own.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href)
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
