/**
 * Profiles what `chargeable()` adds to a request with many users (issue 13, agent side): USERS users signed in
 * through a real OIDC sign-in (test/support/hostile-provider.ts), each with its own session, then the same
 * Express endpoint with and without `chargeable()` under load, cycling through every user's cookie ("spread")
 * and with one user ("hot"). The marketplace's consume is answered in-process (no network), so the numbers are
 * agent-kit's own cost: session lookup, token lookup/decryption, client construction, body parsing.
 *
 *   npx tsx packages/agent-kit/scripts/profile-chargeable.ts   # USERS=1000 SECONDS=5 CONNECTIONS=32 ROUNDS=3
 *   node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx packages/agent-kit/scripts/profile-chargeable.ts
 *
 * The load generator runs in a child process so it does not share the agent's event loop. Not a test: numbers
 * depend on the machine; compare the charged and plain runs of one invocation.
 */
import { fork } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { PGlite } from "@electric-sql/pglite";
import express from "express";
import { Browser } from "../../marketplace/test/support/oauth.ts";
import { expressAdapter } from "../src/express.ts";
import { createAgentKit } from "../src/index.ts";
import { pgliteStorage } from "../src/storage/pglite.ts";
import { HostileProvider } from "../test/support/hostile-provider.ts";

if (process.argv[2] === "--load") {
  // Child: autocannon against the agent, cookies cycled per request.
  const { default: autocannon } = await import("autocannon");
  process.on(
    "message",
    async (job: { url: string; cookies: string[]; seconds: number; connections: number }) => {
      // Each user's cookies, kept up to date as a browser would: better-auth refreshes its signed session cache
      // cookie (`agent.session_data`, 60 s) on a request that had to read the session from the database.
      const jars = job.cookies.map(
        (c) => new Map(c.split("; ").map((p) => p.split(/=(.*)/s).slice(0, 2) as [string, string])),
      );
      const cookieOf = (user: number) => [...jars[user]!].map(([k, v]) => `${k}=${v}`).join("; ");
      let next = 0;
      const result = await autocannon({
        url: job.url,
        method: "POST",
        connections: job.connections,
        duration: job.seconds,
        headers: { "content-type": "application/json", origin: new URL(job.url).origin },
        body: "{}",
        requests: [
          {
            setupRequest: (req, context) => {
              const user = next++ % jars.length;
              (context as { user?: number }).user = user;
              return { ...req, headers: { ...req.headers, cookie: cookieOf(user) } };
            },
            onResponse: (_status, _body, context, headers) => {
              const user = (context as { user?: number }).user;
              const setCookie = (headers as Record<string, string | string[] | undefined>)["set-cookie"];
              if (user === undefined || !setCookie) return;
              for (const line of Array.isArray(setCookie) ? setCookie : [setCookie]) {
                const [name, value] = line.split(";")[0]!.split(/=(.*)/s) as [string, string];
                jars[user]!.set(name.trim(), value);
              }
            },
          },
        ],
      });
      process.send!({
        rps: result.requests.average,
        p50: result.latency.p50,
        p99: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      });
      process.exit(0);
    },
  );
} else {
  const USERS = Number(process.env.USERS ?? 1000);
  const SECONDS = Number(process.env.SECONDS ?? 5);
  const CONNECTIONS = Number(process.env.CONNECTIONS ?? 32);
  const ROUNDS = Number(process.env.ROUNDS ?? 3);

  const provider = await HostileProvider.start();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const agentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const consumed = { n: 0 };
  // The marketplace's consume, answered in-process: only agent-kit's own work is measured.
  const fetchImpl: typeof fetch = async (input, init) => {
    const url = String(input instanceof Request ? input.url : input);
    if (url.endsWith("/consume")) {
      consumed.n++;
      const body = JSON.parse(String(init?.body));
      return Response.json({
        requestId: "r",
        timestamp: new Date().toISOString(),
        statusCode: 200,
        status: "success",
        error: null,
        data: {
          clientReqId: body.clientReqId,
          metricSlug: "messages",
          kind: "rolling",
          delta: 1,
          used: 1,
          effectiveQuota: null,
          remaining: null,
          resetsAt: null,
        },
      });
    }
    return fetch(input, init);
  };
  const pglite = await PGlite.create();
  const kit = await createAgentKit({
    marketplaceUrl: provider.base,
    allowInsecureMarketplace: true,
    agentId: "agent-1",
    agentSlug: "agent-one",
    clientId: provider.clientId,
    baseURL: agentUrl,
    secret: "profile-secret-0123456789abcdefghijklmnop",
    storage: pgliteStorage(pglite),
    callbackRateLimit: { max: 1_000_000, windowSeconds: 60 },
    fetch: fetchImpl,
  });
  const mp = expressAdapter(kit);
  const app = express();
  app.use(mp.router());
  app.use(express.json());
  app.post("/api/plain", mp.requireUser(), (_req, res) => void res.json({ answer: "ok" }));
  app.post(
    "/api/chat",
    mp.requireUser(),
    mp.chargeable("messages"),
    (_req, res) => void res.json({ answer: "ok" }),
  );
  server.on("request", app);

  const started = performance.now();
  const cookies: string[] = [];
  for (let i = 0; i < USERS; i++) {
    provider.behaviour = {
      claims: { sub: `user-${i}`, email: `user-${i}@example.com` },
      userinfoSub: `user-${i}`,
      userinfoClaims: { email: `user-${i}@example.com` },
    };
    const browser = new Browser(agentUrl);
    const start = await browser.fetch("/api/auth/sign-in/marketplace");
    const authorize = await browser.fetch(start.headers.get("location")!);
    const callback = await browser.fetch(authorize.headers.get("location")!);
    if (callback.status !== 303)
      throw new Error(`sign-in ${i} answered ${callback.status}: ${await callback.text()}`);
    cookies.push([...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
  }
  console.log(`${USERS} users signed in in ${((performance.now() - started) / 1000).toFixed(1)} s`);

  const load = (path: string, set: string[]) =>
    new Promise<{ rps: number; p50: number; p99: number; non2xx: number; errors: number }>((resolve) => {
      const child = fork(new URL(import.meta.url).pathname, ["--load"], { execArgv: ["--import", "tsx"] });
      child.once("message", (m) => resolve(m as never));
      child.send({ url: `${agentUrl}${path}`, cookies: set, seconds: SECONDS, connections: CONNECTIONS });
    });
  // A short warm-up over every user: JIT, and each user's first (cold) request.
  await load("/api/chat", cookies);
  // Plain and charged alternate, ROUNDS times each; the median of each figure is reported, so a burst of load
  // from elsewhere on the machine moves one round, not the comparison.
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: Record<string, unknown>[] = [];
  for (const [name, set] of [
    ["spread", cookies],
    ["hot", cookies.slice(0, 1)],
  ] as const) {
    const runs = {
      plain: [] as Awaited<ReturnType<typeof load>>[],
      charged: [] as Awaited<ReturnType<typeof load>>[],
    };
    for (let round = 0; round < ROUNDS; round++) {
      runs.plain.push(await load("/api/plain", set));
      runs.charged.push(await load("/api/chat", set));
    }
    const summary = (r: Awaited<ReturnType<typeof load>>[]) => ({
      rps: Math.round(median(r.map((x) => x.rps))),
      p50: median(r.map((x) => x.p50)),
      p99: median(r.map((x) => x.p99)),
      non2xx: r.reduce((n, x) => n + x.non2xx, 0),
      errors: r.reduce((n, x) => n + x.errors, 0),
    });
    const plain = summary(runs.plain);
    const charged = summary(runs.charged);
    const added = runs.charged.map((c, i) => c.p50 - runs.plain[i]!.p50);
    rows.push({ case: `${name} plain`, ...plain });
    rows.push({ case: `${name} charged`, ...charged, "added p50 ms (median of rounds)": median(added) });
  }
  console.table(rows);
  console.log(`consumes answered: ${consumed.n}; RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MB`);
  server.closeAllConnections();
  server.close();
  await provider.close();
  await pglite.close();
  process.exit(0);
}
