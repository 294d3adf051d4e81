// The agent side of the benchmarks: agent-kit's Express adapter with the same endpoint charged and uncharged,
// its storage on PostgreSQL (AGENT_DATABASE_URL).
import { createServer } from "node:http";
import { createAgentKit } from "@amp/agent-kit";
import { expressAdapter } from "@amp/agent-kit/express";
import { postgresStorage } from "@amp/agent-kit/postgres";
import express from "express";
import pg from "pg";

const env = process.env as Record<string, string>;
// The agent's own database on the same PostgreSQL server as the marketplace's (issue 13 measures both
// servers on PostgreSQL; PGlite runs one statement at a time and never returns its WebAssembly memory).
const pool = new pg.Pool({ connectionString: env.AGENT_DATABASE_URL!, max: 10 });
const kit = await createAgentKit({
  marketplaceUrl: env.MARKETPLACE_API_URL!,
  allowInsecureMarketplace: true,
  agentId: env.AGENT_ID!,
  agentSlug: env.AGENT_SLUG!,
  clientId: env.OAUTH_CLIENT_ID!,
  baseURL: env.BACKEND_URL!,
  secret: "bench-agent-secret-0123456789abcdefghij",
  storage: postgresStorage(pool),
  // Every bench user signs in from 127.0.0.1: the per-address callback limit would stop the spread run's 1,000.
  callbackRateLimit: { max: 1_000_000, windowSeconds: 60 },
});
const mp = expressAdapter(kit);
const app = express();
app.use(mp.router());
// What the bench waits for (agent-kit serves only its named auth routes, so /api/auth/ok is gone).
app.get("/ready", (_req, res) => void res.json({ ready: true }));
app.post("/api/plain", mp.requireUser(), (_req, res) => void res.json({ answer: "ok" }));
app.post(
  "/api/chat",
  mp.requireUser(),
  mp.chargeable("messages"),
  (_req, res) => void res.json({ answer: "ok" }),
);
createServer(app).listen(Number(env.AGENT_PORT), "127.0.0.1", () => console.log("ready"));
