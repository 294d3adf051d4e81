import { ErrorEnvelopeSchema, MeDtoSchema, successEnvelope } from "@amp/contract";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { interactions, user } from "../src/db/schema.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { type Browser, fullFlow, PASSWORD, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
let member: { browser: Browser; userId: string; email: string };

beforeAll(async () => {
  t = await startTestMarketplace({ BODY_LIMIT_BYTES: "4096" });
  client = await t.createClient();
  member = await signedInBrowser(t.url, { name: "Member" });
});
afterAll(() => t?.close());

const MeEnvelope = successEnvelope(MeDtoSchema);
const get = (path: string, headers: Record<string, string> = {}) => fetch(`${t.url}${path}`, { headers });
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const body = ErrorEnvelopeSchema.parse(await response.json());
  expect(body.error.code).toBe(code);
  expect(body.statusCode).toBe(status);
  expect(body.requestId).toBe(response.headers.get("x-request-id"));
  expect(JSON.stringify(body)).not.toMatch(/\n\s+at /);
  return body;
}

describe("operational endpoints", () => {
  it("GET /health is unwrapped liveness; GET /ready checks the database inside the envelope", async () => {
    expect(await (await get("/health")).json()).toEqual({ status: "ok" });
    const ready = await (await get("/ready")).json();
    expect(ready).toMatchObject({ status: "success", data: { database: "up" } });
  });

  it("accepts a caller's x-request-id and echoes it; makes one up otherwise", async () => {
    const echoed = await get("/health", { "x-request-id": "trace-abc-123" });
    expect(echoed.headers.get("x-request-id")).toBe("trace-abc-123");
    const fresh = await get("/health", { "x-request-id": "bad id with spaces" });
    expect(fresh.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("unknown routes are a 404 envelope", async () => {
    await expectError(await get("/no/such/route"), 404, "NOT_FOUND");
  });
});

describe("API authentication", () => {
  it("no credentials: 401 with sign-in and sign-up URLs", async () => {
    const body = await expectError(await get("/me"), 401, "UNAUTHORIZED");
    expect(body.error.details).toEqual({ signInUrl: `${t.url}/sign-in`, signUpUrl: `${t.url}/sign-up` });
  });

  it("accepts the marketplace's own cookie session", async () => {
    const response = await member.browser.fetch("/me", { headers: { accept: "application/json" } });
    const body = MeEnvelope.parse(await response.json());
    expect(body.data).toMatchObject({ id: member.userId, email: member.email, role: "org_member" });
  });

  it("accepts an opaque OAuth access token (any case of the Bearer scheme)", async () => {
    const { tokens } = await fullFlow(t.issuer, member.browser, client);
    for (const scheme of ["Bearer", "bearer"]) {
      const response = await get("/me", { authorization: `${scheme} ${tokens.access_token}` });
      expect(MeEnvelope.parse(await response.json()).data.id).toBe(member.userId);
    }
  });

  it("accepts a JWT from /api/auth/token, but never an ID token or garbage", async () => {
    const jwt = (
      await (
        await member.browser.fetch("/api/auth/token", { headers: { accept: "application/json" } })
      ).json()
    ).token as string;
    expect(MeEnvelope.parse(await (await get("/me", bearer(jwt))).json()).data.id).toBe(member.userId);

    const { tokens } = await fullFlow(t.issuer, member.browser, client);
    await expectError(await get("/me", bearer(tokens.id_token!)), 401, "UNAUTHORIZED");
    await expectError(await get("/me", bearer("x".repeat(32))), 401, "UNAUTHORIZED");
    await expectError(await get("/me", { authorization: "Basic abc" }), 401, "UNAUTHORIZED");
  });

  it("a disabled client's tokens stop working", async () => {
    const agent = await t.createClient();
    const { tokens } = await fullFlow(t.issuer, member.browser, agent);
    t.mp.bearer.clear();
    expect((await get("/me", bearer(tokens.access_token))).status).toBe(200);
    const { setClientDisabled } = await import("../src/clients/service.ts");
    await setClientDisabled(t.mp.database.db, agent.clientId, true);
    t.mp.bearer.clear();
    await expectError(await get("/me", bearer(tokens.access_token)), 401, "UNAUTHORIZED");
  });

  it("platform-admin routes: 403 for members, 200 with cursor pagination for admins", async () => {
    await expectError(
      await member.browser.fetch("/admin/users", { headers: { accept: "application/json" } }),
      403,
      "FORBIDDEN",
    );
    const admin = await signedInBrowser(t.url, { name: "Admin" });
    await t.mp.database.db.update(user).set({ role: "platform_admin" }).where(eq(user.id, admin.userId));
    const first = await (
      await admin.browser.fetch("/admin/users?limit=1", { headers: { accept: "application/json" } })
    ).json();
    expect(first.data).toHaveLength(1);
    expect(first.pagination).toMatchObject({ hasMore: true, limit: 1 });
    const second = await (
      await admin.browser.fetch(`/admin/users?limit=1&cursor=${first.pagination.cursor}`, {
        headers: { accept: "application/json" },
      })
    ).json();
    expect(second.data[0].id).not.toBe(first.data[0].id);
    await expectError(
      await admin.browser.fetch("/admin/users?limit=0", { headers: { accept: "application/json" } }),
      400,
      "BAD_REQUEST",
    );
  });
});

describe("JSON bodies", () => {
  const post = (body: string, contentType = "application/json") =>
    member.browser.fetch("/me", {
      method: "POST",
      headers: { "content-type": contentType, accept: "application/json", origin: new URL(t.url).origin },
      body,
    });

  it("a valid update is applied and returned in the envelope", async () => {
    const response = await post(JSON.stringify({ name: "Renamed Member" }));
    expect(MeEnvelope.parse(await response.json()).data.name).toBe("Renamed Member");
  });

  it("malformed JSON, wrong content type, unknown fields and bad values are 400 with details.errors and change nothing", async () => {
    const before = (await t.mp.database.db.select().from(user).where(eq(user.id, member.userId)))[0]!;
    for (const [body, type] of [
      ['{"name": ', "application/json"],
      ['{"name":"x"}', "text/plain"],
      ['{"name":"x","role":"platform_admin"}', "application/json"],
      ['{"name":""}', "application/json"],
      ['{"image":"javascript:alert(1)"}', "application/json"],
      ["[]", "application/json"],
      [`${'{"a":'.repeat(500)}1${"}".repeat(500)}`, "application/json"],
    ] as const) {
      const error = await expectError(await post(body, type), 400, "BAD_REQUEST");
      expect((error.error.details as { errors: unknown[] }).errors.length).toBeGreaterThan(0);
    }
    const after = (await t.mp.database.db.select().from(user).where(eq(user.id, member.userId)))[0]!;
    expect(after).toEqual(before);
  });

  it("an oversized body is 413 in the envelope", async () => {
    await expectError(await post(JSON.stringify({ name: "x".repeat(10_000) })), 413, "BAD_REQUEST");
  });

  it("a chunked body (no Content-Length) is held to the same limit, and one within it is applied", async () => {
    const chunked = (body: string) =>
      member.browser.fetch("/me", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "transfer-encoding": "chunked",
          accept: "application/json",
          origin: new URL(t.url).origin,
        },
        body,
      });
    await expectError(await chunked(JSON.stringify({ name: "x".repeat(10_000) })), 413, "BAD_REQUEST");
    const response = await chunked(JSON.stringify({ name: "Chunked Member" }));
    expect(MeEnvelope.parse(await response.json()).data.name).toBe("Chunked Member");
  });
});

describe("accounts and logs", () => {
  it("a new user gets the org_member role and a user_signup interaction", async () => {
    const fresh = await signedInBrowser(t.url);
    const rows = await t.mp.database.db
      .select()
      .from(interactions)
      .where(eq(interactions.userId, fresh.userId));
    expect(rows.map((r) => r.type)).toEqual(["user_signup"]);
    const [row] = await t.mp.database.db.select().from(user).where(eq(user.id, fresh.userId));
    expect(row!.role).toBe("org_member");
  });

  it("captured logs contain no password, token, code or cookie value", async () => {
    const who = await signedInBrowser(t.url);
    const flow = await fullFlow(t.issuer, who.browser, client);
    await get("/me", bearer(flow.tokens.access_token));
    await fetch(`${t.issuer}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: flow.tokens.refresh_token!,
        client_id: client.clientId,
      }),
    });
    const secrets = [
      PASSWORD,
      flow.code!,
      flow.tokens.access_token,
      flow.tokens.refresh_token!,
      flow.tokens.id_token!,
      flow.pkce.verifier,
      ...who.browser.cookies.values(),
    ];
    const logs = t.logs.join("\n");
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of secrets)
      expect(logs.includes(secret), `log leaks ${secret.slice(0, 6)}…`).toBe(false);
  });
});

describe("database outage", () => {
  it("an unreachable database answers 503 SERVICE_UNAVAILABLE, not 500", async () => {
    const doomed = await startTestMarketplace();
    try {
      await doomed.mp.database.close();
      const response = await fetch(`${doomed.url}/ready`);
      expect(response.status).toBe(503);
      expect((await response.json()).error.code).toBe("SERVICE_UNAVAILABLE");
    } finally {
      await doomed.close().catch(() => {});
    }
  });
});
