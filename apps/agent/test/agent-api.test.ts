import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestMarketplace } from "../../../packages/marketplace/test/support/harness.ts";
import { KnowledgeBases } from "../server/kb.ts";
import { startAgentApp } from "./support.ts";

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
let agentUrl: string;
let kbs: FlakyKnowledgeBases;
let demoUser: Awaited<ReturnType<typeof startAgentApp>>["demoUser"];
let close: () => Promise<void>;

beforeAll(async () => {
  const app = await startAgentApp({ kbs: (db) => new FlakyKnowledgeBases(db) });
  ({ t, agentUrl, demoUser, close } = app);
  kbs = app.kbs as FlakyKnowledgeBases;
});
afterAll(() => close?.());

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

  it("documents can be viewed, renamed (validated) and deleted, only by their owner's knowledge base", async () => {
    const user = await demoUser();
    const kb = (await user.call("POST", "/api/kbs", { name: "Docs to manage" })).json.knowledgeBase.id;
    const other = (await user.call("POST", "/api/kbs", { name: "Other" })).json.knowledgeBase.id;
    const { json } = await user.call("POST", `/api/kbs/${kb}/documents`, {
      title: "Policy",
      content: "# Policy\n\nBe kind.",
    });
    const doc = json.document.id;
    const viewed = await user.call("GET", `/api/kbs/${kb}/documents/${doc}`);
    expect(viewed.status).toBe(200);
    expect(viewed.json.document).toMatchObject({ id: doc, title: "Policy", content: "# Policy\n\nBe kind." });
    // Through another knowledge base, the document does not exist.
    expect((await user.call("GET", `/api/kbs/${other}/documents/${doc}`)).status).toBe(404);
    expect((await user.call("PATCH", `/api/kbs/${other}/documents/${doc}`, { title: "Stolen" })).status).toBe(
      404,
    );

    const renamed = await user.call("PATCH", `/api/kbs/${kb}/documents/${doc}`, {
      title: "  Kindness policy ",
    });
    expect(renamed.status).toBe(200);
    expect(renamed.json.document).toMatchObject({ id: doc, title: "Kindness policy" });
    for (const bad of [
      { title: "" },
      { title: "   " },
      { title: "x".repeat(201) },
      { title: 5 },
      {},
      { title: "ok", content: "no" },
    ]) {
      const response = await user.call("PATCH", `/api/kbs/${kb}/documents/${doc}`, bad);
      expect(response.status, JSON.stringify(bad)).toBe(400);
      expect(response.json.error).toBe("bad_request");
    }
    expect((await user.call("PATCH", `/api/kbs/${kb}/documents/nope`, { title: "X" })).status).toBe(404);
    expect(
      (await user.call("GET", `/api/kbs/${kb}`)).json.documents.map((d: { title: string }) => d.title),
    ).toEqual(["Kindness policy"]);

    expect((await user.call("DELETE", `/api/kbs/${kb}/documents/${doc}`)).status).toBe(200);
    expect((await user.call("GET", `/api/kbs/${kb}/documents/${doc}`)).status).toBe(404);
    expect((await user.call("DELETE", `/api/kbs/${kb}/documents/${doc}`)).status).toBe(404);
    await user.call("DELETE", `/api/kbs/${kb}`);
    await user.call("DELETE", `/api/kbs/${other}`);
  });

  it("plan links point at the marketplace pricing page for this agent and the account page", async () => {
    const user = await demoUser();
    expect((await user.call("GET", "/api/plan-links")).json).toEqual({
      pricingUrl: `${t.url}/pricing/kb-assistant`,
      accountUrl: `${t.url}/dashboard`,
    });
    expect((await fetch(`${agentUrl}/api/plan-links`)).status).toBe(401);
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

  it("F.10g a NUL in a knowledge-base or document id is a 400, never a 500", async () => {
    const user = await demoUser();
    for (const [method, path] of [
      ["GET", "/api/kbs/%00"],
      ["PATCH", "/api/kbs/%00"],
      ["DELETE", "/api/kbs/%00"],
      ["POST", "/api/kbs/%00/documents"],
      ["GET", "/api/kbs/%00/documents/%00"],
      ["PATCH", "/api/kbs/%00/documents/%00"],
      ["POST", "/api/kbs/%00/ask"],
    ] as const) {
      const body =
        method === "GET" || method === "DELETE"
          ? undefined
          : { name: "x", title: "t", content: "c", question: "q" };
      const response = await user.call(method, path, body);
      expect(response.status, `${method} ${path}`).toBeGreaterThanOrEqual(400);
      expect(response.status, `${method} ${path}`).toBeLessThan(500);
    }
    expect((await user.call("GET", "/api/kbs/%00")).status).toBe(400);
  });

  it("F.10h a NUL in any JSON string, or JSON nested past the depth limit, is a 400 before parsing", async () => {
    const user = await demoUser();
    const named = await user.call("POST", "/api/kbs", { name: "bad\u0000name" });
    expect(named.status).toBe(400);
    expect(named.json.message).toContain("NUL");
    const deep = await user.browser.fetch("/api/kbs", {
      method: "POST",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        origin: new URL(user.browser.base).origin,
      },
      // 1,000 levels stay under this test agent's body limit (50,000 would be a 413 here).
      body: `{"name":${"[".repeat(1_000)}${"]".repeat(1_000)}}`,
    });
    expect(deep.status).toBe(400);
    expect((await deep.json()).message).toContain("nested deeper");
  });
});
