import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Connection, DatabaseTarget } from "@amp/db";
import pino from "pino";
import { DEMO, seedDemo } from "../../../packages/marketplace/src/demo/seed.ts";
import {
  startTestMarketplace,
  type TestMarketplace,
} from "../../../packages/marketplace/test/support/harness.ts";
import { Browser } from "../../../packages/marketplace/test/support/oauth.ts";
import { createAgentApp, Streams } from "../server/app.ts";
import { loadConfig } from "../server/config.ts";
import { KnowledgeBases, schema } from "../server/kb.ts";
import { AgentMetrics } from "../server/metrics.ts";
import { openAgent } from "../server/open.ts";

/** The marketplace with the demo seeded, and the reference agent's app in this process on its own database. */
export async function startAgentApp(
  opts: {
    database?: DatabaseTarget;
    kbs?: (db: ReturnType<typeof drizzleOf>) => KnowledgeBases;
    /** A built web app to serve (default: none). */
    webDist?: string;
    /** Serve GET /metrics, guarded by this token. */
    metricsToken?: string;
  } = {},
) {
  const t: TestMarketplace = await startTestMarketplace();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const agentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { agent } = await seedDemo(t.mp.auth, t.mp.database.db, { agentOrigin: agentUrl, devCheckout: true });
  const config = loadConfig({
    NODE_ENV: "test",
    MARKETPLACE_API_URL: t.url,
    OAUTH_CLIENT_ID: agent.oauthClientId,
    AGENT_ID: agent.id,
    AGENT_SLUG: agent.slug,
    BACKEND_URL: agentUrl,
    AUTH_SECRET: "agent-app-test-secret-0123456789abcdef",
    MAX_DOCUMENT_BYTES: "2000",
    WEB_DIST_DIR: opts.webDist ?? "/nonexistent",
    ...(opts.metricsToken ? { METRICS_TOKEN: opts.metricsToken } : {}),
  });
  const streams = new Streams();
  const metrics = opts.metricsToken ? new AgentMetrics(() => streams.size) : undefined;
  const { database, kit } = await openAgent(config, opts.database ?? { memory: true }, metrics?.observer);
  const db = database.drizzle(schema);
  const kbs = opts.kbs ? opts.kbs(db) : new KnowledgeBases(db);
  const app = createAgentApp({
    config,
    kit,
    kbs,
    database,
    logger: pino({ level: "silent" }),
    streams,
    metrics,
  });
  server.on("request", app);

  /** The demo user, signed in to the marketplace and then to the agent; `call` is a JSON client with its cookies. */
  async function demoUser() {
    const browser = new Browser(agentUrl);
    await browser.fetch(`${t.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", origin: t.url },
      body: JSON.stringify({ email: DEMO.user.email, password: DEMO.user.password }),
    });
    const start = await browser.fetch("/api/auth/sign-in/marketplace");
    const authorize = await browser.fetch(start.headers.get("location")!);
    await browser.fetch(authorize.headers.get("location")!);
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await browser.fetch(path, {
        method,
        headers: {
          accept: "application/json",
          // What the web app's fetch carries: browsers send Origin on every state-changing request.
          ...(["GET", "HEAD"].includes(method) ? {} : { origin: agentUrl }),
          ...(body === undefined ? {} : { "content-type": "application/json" }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await response.text();
      return { status: response.status, text, json: text.startsWith("{") ? JSON.parse(text) : null };
    };
    return { browser, call };
  }

  return {
    t,
    app,
    agentUrl,
    kbs,
    demoUser,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await database.close();
      await t.close();
    },
  };
}

const drizzleOf = (d: Connection) => d.drizzle(schema);
