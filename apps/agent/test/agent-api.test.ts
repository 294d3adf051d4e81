import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { agentKitMigrations, createAgentKit } from "@amp/agent-kit";
import { connect, migrate } from "@amp/db";
import pino from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAuth } from "../../../packages/marketplace/src/auth/auth.ts";
import { emptyClaimSource } from "../../../packages/marketplace/src/auth/claims.ts";
import { DEMO, seedDemo } from "../../../packages/marketplace/src/demo/seed.ts";
import { createLogger } from "../../../packages/marketplace/src/http/logger.ts";
import {
  startTestMarketplace,
  type TestMarketplace,
} from "../../../packages/marketplace/test/support/harness.ts";
import { Browser } from "../../../packages/marketplace/test/support/oauth.ts";
import { createAgentApp, Streams } from "../server/app.ts";
import { loadConfig } from "../server/config.ts";
import { KnowledgeBases, schema } from "../server/kb.ts";

const MIGRATIONS = { name: "agent", dir: new URL("../migrations/", import.meta.url).pathname };

/** Knowledge bases whose `create` can be made to fail, to prove a failed create gives its unit back. */
class FlakyKnowledgeBases extends KnowledgeBases {
  failNextCreate = false;
  override async create(userId: string, id: string, name: string) {
    if (this.failNextCreate) {
      this.failNextCreate = false;
      throw new Error("disk full");
    }
    return super.create(userId, id, name);
  }
}

let t: TestMarketplace;
let server: Server;
let agentUrl: string;
let kbs: FlakyKnowledgeBases;
let close: () => Promise<void>;

beforeAll(async () => {
  t = await startTestMarketplace();
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  agentUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const auth = createAuth({
    config: t.mp.config,
    dialect: t.mp.database.authDialect,
    claims: emptyClaimSource,
    logger: createLogger("silent"),
    onUserCreated: async () => {},
  });
  const { agent } = await seedDemo(auth, t.mp.database.db, { agentOrigin: agentUrl, devCheckout: true });
  const config = loadConfig({
    NODE_ENV: "test",
    MARKETPLACE_API_URL: t.url,
    OAUTH_CLIENT_ID: agent.oauthClientId,
    AGENT_ID: agent.id,
    AGENT_SLUG: agent.slug,
    BACKEND_URL: agentUrl,
    AUTH_SECRET: "agent-app-test-secret-0123456789abcdef",
    MAX_DOCUMENT_BYTES: "2000",
    WEB_DIST_DIR: "/nonexistent",
  });
  const database = await connect({ memory: true });
  await migrate(database.sql, [agentKitMigrations, MIGRATIONS]);
  const kit = await createAgentKit({
    marketplaceUrl: config.marketplaceUrl,
    allowInsecureMarketplace: true,
    agentId: config.agentId,
    agentSlug: config.agentSlug,
    clientId: config.clientId,
    baseURL: config.backendUrl,
    secret: config.secret,
    database,
  });
  kbs = new FlakyKnowledgeBases(database.drizzle(schema));
  server.on(
    "request",
    createAgentApp({ config, kit, kbs, database, logger: pino({ level: "silent" }), streams: new Streams() }),
  );
  close = async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await database.close();
    await t.close();
  };
});
afterAll(() => close?.());

/** The demo user, signed in to the marketplace and then to the agent. */
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
        ...(body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, text, json: text.startsWith("{") ? JSON.parse(text) : null };
  };
  return { browser, call };
}

const used = async (user: Awaited<ReturnType<typeof demoUser>>, slug: string) =>
  (await user.call("GET", "/api/me/usage")).json.metrics.find(
    (m: { metricSlug: string }) => m.metricSlug === slug,
  ).used as number;

describe("the knowledge-base assistant's API", () => {
  it("health and readiness", async () => {
    expect(await (await fetch(`${agentUrl}/health`)).json()).toEqual({ status: "ok" });
    expect(await (await fetch(`${agentUrl}/ready`)).json()).toEqual({ status: "ready" });
  });

  it("creating knowledge bases is charged; past the Free cap it is 429 with an upgrade link and nothing is created", async () => {
    const user = await demoUser();
    expect((await user.call("POST", "/api/kbs", { name: "One" })).status).toBe(201);
    expect((await user.call("POST", "/api/kbs", { name: "Two" })).status).toBe(201);
    expect(await used(user, "knowledge-bases")).toBe(2);
    const third = await user.call("POST", "/api/kbs", { name: "Three" });
    expect(third.status).toBe(429);
    expect(third.json).toMatchObject({
      error: "quota_exceeded",
      upgradeUrl: `${t.url}/pricing/kb-assistant`,
      remaining: 0,
    });
    expect((await user.call("GET", "/api/kbs")).json.knowledgeBases).toHaveLength(2);
    for (const kb of (await user.call("GET", "/api/kbs")).json.knowledgeBases)
      await user.call("DELETE", `/api/kbs/${kb.id}`);
  });

  it("a failed create never leaves a charge behind; a repeated delete never releases twice", async () => {
    const user = await demoUser();
    kbs.failNextCreate = true;
    expect((await user.call("POST", "/api/kbs", { name: "Doomed" })).status).toBe(500);
    expect(await used(user, "knowledge-bases")).toBe(0);
    const { json } = await user.call("POST", "/api/kbs", { name: "Kept" });
    expect(await used(user, "knowledge-bases")).toBe(1);
    expect((await user.call("DELETE", `/api/kbs/${json.knowledgeBase.id}`)).status).toBe(200);
    expect((await user.call("DELETE", `/api/kbs/${json.knowledgeBase.id}`)).status).toBe(404);
    expect(await used(user, "knowledge-bases")).toBe(0);
    const { rows } = await t.mp.database.sql.query(`SELECT 1 FROM usage_ledger WHERE "clientReqId" = $1`, [
      `release-${json.knowledgeBase.id}`,
    ]);
    expect(rows).toHaveLength(1);
  });

  it("documents: pasted text is stored; empty, binary and oversized documents get clear errors", async () => {
    const user = await demoUser();
    const { json } = await user.call("POST", "/api/kbs", { name: "Docs" });
    const kb = json.knowledgeBase.id;
    expect(
      (
        await user.call("POST", `/api/kbs/${kb}/documents`, {
          title: "Notes",
          content: "# Notes\n\nThe office opens at 9.",
        })
      ).status,
    ).toBe(201);
    expect(
      (await user.call("POST", `/api/kbs/${kb}/documents`, { title: "Empty", content: "" })).status,
    ).toBe(400);
    expect(
      (await user.call("POST", `/api/kbs/${kb}/documents`, { title: "Bin", content: "a\u0000b" })).status,
    ).toBe(400);
    const big = await user.call("POST", `/api/kbs/${kb}/documents`, {
      title: "Big",
      content: "x".repeat(2_100),
    });
    expect(big.status).toBe(413);
    expect(big.json.message).toContain("limited to 2 kB");
    expect(
      (await user.call("GET", `/api/kbs/${kb}`)).json.documents.map((d: { title: string }) => d.title),
    ).toEqual(["Notes"]);
    await user.call("DELETE", `/api/kbs/${kb}`);
  });

  it("asking is charged and streams a grounded answer with citations over SSE; history is kept", async () => {
    const user = await demoUser();
    const { json } = await user.call("POST", "/api/kbs", { name: "Ask" });
    const kb = json.knowledgeBase.id;
    await user.call("POST", `/api/kbs/${kb}/documents`, {
      title: "Hours",
      content: "The office opens at 9 and closes at 17.\n\nParking is free.",
    });
    const before = await used(user, "messages");
    const answer = await user.call("POST", `/api/kbs/${kb}/ask`, { question: "When does the office open?" });
    expect(answer.status).toBe(200);
    expect(answer.text).toContain("event: charge");
    expect(answer.text).toMatch(/event: citations\ndata: \[\{"n":1,"documentId":"[^"]+","title":"Hours"/);
    expect(answer.text).toContain("event: done");
    const tokens = [...answer.text.matchAll(/event: token\ndata: (.*)/g)]
      .map((m) => JSON.parse(m[1]!))
      .join("");
    expect(tokens).toContain("The office opens at 9");
    expect(await used(user, "messages")).toBe(before + 1);
    const history = (await user.call("GET", `/api/kbs/${kb}`)).json.messages;
    expect(history.map((m: { role: string }) => m.role)).toEqual(["user", "assistant"]);
    expect((await user.call("POST", `/api/kbs/${kb}/ask`, { question: "" })).status).toBe(400);
    expect(await used(user, "messages")).toBe(before + 1);
    await user.call("DELETE", `/api/kbs/${kb}`);
  });

  it("the voice feature follows the quota (off on Free)", async () => {
    const user = await demoUser();
    expect((await user.call("GET", "/api/features")).json).toEqual({ voice: false });
  });

  it("signed-out calls are 401 with a sign-in URL; unknown routes are 404 JSON", async () => {
    const response = await fetch(`${agentUrl}/api/kbs`);
    expect(response.status).toBe(401);
    expect((await response.json()).signInUrl).toContain("/api/auth/sign-in/marketplace");
    expect((await fetch(`${agentUrl}/api/nope`)).status).toBe(404);
  });
});
