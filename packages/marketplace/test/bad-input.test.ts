import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { usageLedger } from "../src/db/schema.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  call,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import type { Browser } from "./support/oauth.ts";

let t: TestMarketplace;
let admin: Browser;
let agent: DemoAgent;
let u: Awaited<ReturnType<typeof agentUser>>;

beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
  agent = await registerAgent(admin, { messages: ["rolling", 50, 500] });
  u = await agentUser(t, agent);
  await subscribeFree(u, agent);
});
afterAll(() => t?.close());

const consumePath = () => `/me/agents/${agent.id}/usage/messages/consume`;
const rawPost = (path: string, body: string, token = u.token) =>
  fetch(`${t.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body,
  });
const ledgerRows = async () =>
  (await t.mp.database.db.select().from(usageLedger).where(eq(usageLedger.userId, u.userId))).length;

function expectBadRequest(response: { status: number; body: { error: { code: string } | null } }) {
  expect(response.status).toBe(400);
  expect(response.body.error?.code).toBe("BAD_REQUEST");
}

describe("F.10 bad input is a 4xx, never a 500", () => {
  it("F.10a a NUL byte in a path id is a 400 on every kind of route", async () => {
    expectBadRequest(await call(u.browser, "GET", "/agents/%00"));
    expectBadRequest(await call(u.browser, "GET", "/me/subscriptions/%00"));
    expectBadRequest(await call(u.browser, "POST", "/me/subscriptions/%00/cancel"));
    expectBadRequest(await call(u.browser, "GET", "/me/agents/%00/usage"));
    expectBadRequest(await bearerCall(t.url, u.token, "GET", `/me/agents/${agent.id}/usage/%00`));
    expectBadRequest(
      await call(u.browser, "POST", `/agents/${agent.id}/pricing/%00/checkout`, {
        returnUrl: `https://${agent.slug}.example.com/welcome`,
      }),
    );
  });

  it("F.10b a NUL in clientReqId is a 400 and writes nothing", async () => {
    const before = await ledgerRows();
    const response = await bearerCall(t.url, u.token, "POST", consumePath(), {
      delta: 1,
      clientReqId: `a\u0000b`,
    });
    expectBadRequest(response);
    expect(await ledgerRows()).toBe(before);
  });

  it("F.10c a NUL in a name (or any JSON string, metadata included) is a 400", async () => {
    expectBadRequest(await call(u.browser, "POST", "/me", { name: "Eve\u0000" }));
    expectBadRequest(
      await call(admin, "POST", "/agents", {
        name: "Nul\u0000Agent",
        slug: "nul-agent",
        redirectUris: ["https://nul.example.com/cb"],
      }),
    );
    expectBadRequest(
      await call(admin, "POST", `/agents/${agent.id}/metrics`, {
        slug: "nul-metric",
        displayName: "x\u0000",
        unit: "u",
        kind: "fixed",
      }),
    );
    expectBadRequest(
      await bearerCall(t.url, u.token, "POST", consumePath(), {
        delta: 1,
        clientReqId: randomUUID(),
        metadata: { note: "x\u0000y" },
      }),
    );
  });

  it("F.10d consume metadata nested 50,000 levels deep is a 400 (no stack overflow); size and depth are capped", async () => {
    const before = await ledgerRows();
    const deep = `${"[".repeat(50_000)}${"]".repeat(50_000)}`;
    const response = await rawPost(
      consumePath(),
      `{"delta":1,"clientReqId":"${randomUUID()}","metadata":{"a":${deep}}}`,
    );
    expect(response.status).toBe(400);
    const nested = (levels: number) => {
      let v: unknown = "leaf";
      for (let i = 0; i < levels; i++) v = { v };
      return v as Record<string, unknown>;
    };
    const consume = (metadata: Record<string, unknown>) =>
      bearerCall(t.url, u.token, "POST", consumePath(), { delta: 1, clientReqId: randomUUID(), metadata });
    expectBadRequest(await consume(nested(5)));
    expectBadRequest(await consume({ blob: "x".repeat(5_000) }));
    expect(await ledgerRows()).toBe(before);
    expect((await consume(nested(4))).status).toBe(200);
    expect((await consume({ blob: "x".repeat(4_000) })).status).toBe(200);
  });

  it("F.10e any JSON body nested deeper than the limit is a 400, before parsing", async () => {
    const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
    const agents = await admin.fetch("/agents", {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json", origin: t.url },
      body: deep,
    });
    expect(agents.status).toBe(400);
    const consumed = await rawPost(consumePath(), deep);
    expect(consumed.status).toBe(400);
    // Refused by the depth scan, before JSON.parse or any schema walks it.
    expect(JSON.stringify((await consumed.json()).error.details)).toContain("nested deeper than 32 levels");
  });

  it("F.10f concurrent creates of one slug, tier name or metric, and concurrent free checkouts: one wins, the rest 409, no 500", async () => {
    const statuses = async (n: number, make: () => Promise<{ status: number }>) =>
      (await Promise.all(Array.from({ length: n }, make))).map((r) => r.status).sort();
    const slug = `race-${Date.now().toString(36)}`;
    expect(
      await statuses(8, () =>
        call(admin, "POST", "/agents", {
          name: "Race",
          slug,
          redirectUris: [`https://${slug}.example.com/cb`],
        }),
      ),
    ).toEqual([201, ...Array(7).fill(409)]);
    expect(
      await statuses(8, () =>
        call(admin, "POST", `/agents/${agent.id}/metrics`, {
          slug: "race-metric",
          displayName: "Race",
          unit: "u",
          kind: "fixed",
        }),
      ),
    ).toEqual([201, ...Array(7).fill(409)]);
    expect(
      await statuses(8, () =>
        call(admin, "POST", `/agents/${agent.id}/pricing`, { tierName: "Race", isFree: true }),
      ),
    ).toEqual([201, ...Array(7).fill(409)]);
    const racer = await agentUser(t, agent);
    expect(
      await statuses(8, () =>
        call(racer.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
          returnUrl: `https://${agent.slug}.example.com/welcome`,
        }),
      ),
    ).toEqual([201, ...Array(7).fill(409)]);
  });
});
