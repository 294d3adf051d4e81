import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "../src/db/schema.ts";
import { type DocumentedOperation, operationsOf } from "../src/openapi/document.ts";
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
import { type Browser, fullFlow, signedInBrowser } from "./support/oauth.ts";

/**
 * The shared route-security suite (issue "trust boundary", §F.1): every
 * declared route, called by every kind of wrong caller, answers exactly as
 * its declared access says — and no API route exists undeclared.
 */

type Caller =
  | "none"
  | "userCookie"
  | "ownAgentToken"
  | "otherAgentToken"
  | "adminCookie"
  | "adminsAgentToken"
  | "adminClientToken"
  | "bannedCookie"
  | "bannedToken";

type Expect = "allowed" | 401 | 403;

/** What each declared access rule answers each caller (allowed = the guard lets it through). */
const MATRIX: Record<string, Record<Caller, Expect>> = {
  public: {
    none: "allowed",
    userCookie: "allowed",
    ownAgentToken: "allowed",
    otherAgentToken: "allowed",
    adminCookie: "allowed",
    adminsAgentToken: "allowed",
    adminClientToken: "allowed",
    bannedCookie: "allowed",
    bannedToken: "allowed",
  },
  user: {
    none: 401,
    userCookie: "allowed",
    ownAgentToken: 403,
    otherAgentToken: 403,
    adminCookie: "allowed",
    adminsAgentToken: 403,
    adminClientToken: 403,
    bannedCookie: 401,
    bannedToken: 401,
  },
  userOrOwnAgent: {
    none: 401,
    userCookie: "allowed",
    ownAgentToken: "allowed",
    otherAgentToken: 403,
    adminCookie: "allowed",
    adminsAgentToken: "allowed",
    adminClientToken: 403,
    bannedCookie: 401,
    bannedToken: 401,
  },
  ownAgent: {
    none: 401,
    userCookie: 403,
    ownAgentToken: "allowed",
    otherAgentToken: 403,
    adminCookie: 403,
    adminsAgentToken: "allowed",
    adminClientToken: 403,
    bannedCookie: 401,
    bannedToken: 401,
  },
  userOrAnyAgent: {
    none: 401,
    userCookie: "allowed",
    ownAgentToken: "allowed",
    otherAgentToken: "allowed",
    adminCookie: "allowed",
    adminsAgentToken: "allowed",
    adminClientToken: "allowed",
    bannedCookie: 401,
    bannedToken: 401,
  },
  admin: {
    none: 401,
    userCookie: 403,
    ownAgentToken: 403,
    otherAgentToken: 403,
    adminCookie: "allowed",
    adminsAgentToken: 403,
    adminClientToken: "allowed",
    bannedCookie: 401,
    bannedToken: 401,
  },
};

let t: TestMarketplace;
let admin: Browser;
let agentX: DemoAgent;
let agentY: DemoAgent;
let member: Awaited<ReturnType<typeof agentUser>>;
let memberTokenY: string;
let adminsAgentToken: string;
let adminClientToken: string;
let banned: { browser: Browser; token: string };
let operations: DocumentedOperation[];

beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
  agentX = await registerAgent(admin, { questions: ["rolling", 20, 100], kbs: ["fixed", 2, 10] });
  agentY = await registerAgent(admin, { questions: ["rolling", 20, 100] });
  member = await agentUser(t, agentX);
  await subscribeFree(member, agentX);
  await subscribeFree(member, agentY);
  memberTokenY = (
    await fullFlow(t.issuer, member.browser, { clientId: agentY.clientId, redirectUri: agentY.redirectUri })
  ).tokens.access_token;
  adminsAgentToken = (
    await fullFlow(t.issuer, admin, { clientId: agentX.clientId, redirectUri: agentX.redirectUri })
  ).tokens.access_token;
  const adminClient = await t.createClient({ admin: true });
  adminClientToken = (await fullFlow(t.issuer, admin, adminClient, { scope: "openid marketplace:admin" }))
    .tokens.access_token;
  const toBan = await agentUser(t, agentX);
  await t.mp.database.db.update(user).set({ banned: true }).where(eq(user.id, toBan.userId));
  t.mp.bearer.clear();
  banned = { browser: toBan.browser, token: toBan.token };
  operations = operationsOf(await (await fetch(`${t.url}/openapi.json`)).json());
});
afterAll(() => t?.close());

/** Sends one documented operation as `caller`; ids are filled so a let-through request has no side effect. */
async function send(op: DocumentedOperation, caller: Caller) {
  const bindsAgent = op.access === "ownAgent" || op.access === "userOrOwnAgent";
  const path = op.path.replace(/\{(\w+)\}/g, (_, name: string) =>
    name === "agentId" && bindsAgent ? agentX.id : name === "metricSlug" ? "questions" : randomUUID(),
  );
  const method = op.method.toUpperCase();
  const body = method === "GET" || method === "DELETE" ? undefined : {};
  const browsers: Partial<Record<Caller, Browser>> = {
    userCookie: member.browser,
    adminCookie: admin,
    bannedCookie: banned.browser,
  };
  const tokens: Partial<Record<Caller, string>> = {
    ownAgentToken: member.token,
    otherAgentToken: memberTokenY,
    adminsAgentToken,
    adminClientToken,
    bannedToken: banned.token,
  };
  const browser = browsers[caller];
  if (browser) return (await call(browser, method, path, body)).status;
  const token = tokens[caller];
  if (token) return (await bearerCall(t.url, token, method, path, body)).status;
  const response = await fetch(`${t.url}${path}`, {
    method,
    headers: body ? { "content-type": "application/json" } : {},
    body: body ? "{}" : undefined,
  });
  return response.status;
}

describe("F.1 every route declares who may call it, and the declaration holds", () => {
  it("F.1a every documented operation answers every kind of caller as its declared access says", async () => {
    expect(operations.length).toBeGreaterThanOrEqual(24);
    const failures: string[] = [];
    for (const op of operations) {
      const expected = MATRIX[op.access];
      expect(expected, `${op.method} ${op.path} declares an unknown access "${op.access}"`).toBeDefined();
      for (const [caller, want] of Object.entries(expected!) as [Caller, Expect][]) {
        const status = await send(op, caller);
        const ok = want === "allowed" ? status !== 401 && status !== 403 && status < 500 : status === want;
        if (!ok) failures.push(`${op.method.toUpperCase()} ${op.path} as ${caller}: ${status}, want ${want}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("F.1b no route exists undeclared: every routed path is in /openapi.json or a known non-API surface", () => {
    const documented = new Set(operations.map((op) => `${op.method.toUpperCase()} ${op.path}`));
    // Surfaces with their own security model: the OIDC provider, Stripe's signed webhook, probes, the
    // API reference, the server-rendered pages (session cookie + CSRF token on every form), and the web
    // app's static files and HTML (GET only, no data: web/routes.ts).
    const nonApi =
      /^\/(health|ready|metrics|openapi\.json|docs|api\/auth(\/.*)?|\.well-known\/.*|webhooks\/stripe|dev-checkout|dashboard|sign-in|sign-up|sign-out|signed-out|consent|error|assets\/\*|\*|)$/;
    const undeclared = t.mp.app.routes
      .filter((route) => route.method !== "ALL" || !route.path.endsWith("*"))
      .map((route) => ({ method: route.method, path: route.path.replace(/:(\w+)/g, "{$1}") }))
      .filter(({ method, path }) => !documented.has(`${method} ${path}`) && !nonApi.test(path))
      .map(({ method, path }) => `${method} ${path}`);
    expect(undeclared).toEqual([]);
    for (const op of operations) expect(op.path).toMatch(/^\/(me|agents|admin)(\/|$)/);
  });

  it("F.1c agent X's token cannot list the user's subscriptions, cancel Y, or rename the user", async () => {
    expect((await bearerCall(t.url, member.token, "GET", "/me/subscriptions")).status).toBe(403);
    const cancelY = await bearerCall(t.url, member.token, "POST", `/me/subscriptions/${agentY.id}/cancel`);
    expect(cancelY.status).toBe(403);
    expect((await call(member.browser, "GET", `/me/subscriptions/${agentY.id}`)).body.data).toMatchObject({
      status: "active",
    });
    expect((await bearerCall(t.url, member.token, "POST", "/me", { name: "Renamed by X" })).status).toBe(403);
    expect((await bearerCall(t.url, member.token, "GET", `/me/subscriptions/${agentY.id}`)).status).toBe(403);
    expect((await bearerCall(t.url, member.token, "GET", `/me/subscriptions/${agentX.id}`)).status).toBe(200);
  });

  it("F.1d a token granted only openid reads no email, name or role from GET /me", async () => {
    const { tokens } = await fullFlow(
      t.issuer,
      member.browser,
      { clientId: agentX.clientId, redirectUri: agentX.redirectUri },
      { scope: "openid" },
    );
    const me = await bearerCall(t.url, tokens.access_token, "GET", "/me");
    expect(me.status).toBe(200);
    expect(Object.keys(me.body.data).sort()).toEqual(["createdAt", "id"]);
    const full = await bearerCall(t.url, member.token, "GET", "/me");
    expect(full.body.data).toMatchObject({ email: member.email, role: "org_member" });
  });

  it("F.1e a platform admin's agent token has no admin power; an admin client's marketplace:admin token does", async () => {
    const body = {
      name: "Sneaky",
      slug: `sneaky-${Date.now()}`,
      status: "draft",
      redirectUris: [agentX.redirectUri],
    };
    expect((await bearerCall(t.url, adminsAgentToken, "POST", "/agents", body)).status).toBe(403);
    expect((await bearerCall(t.url, adminsAgentToken, "GET", "/admin/users")).status).toBe(403);
    expect((await bearerCall(t.url, adminsAgentToken, "GET", "/agents?all=true")).status).toBe(403);
    expect((await bearerCall(t.url, adminClientToken, "GET", "/admin/users")).status).toBe(200);
    // An agent's client can never be granted the admin scope in the first place.
    await expect(
      fullFlow(
        t.issuer,
        admin,
        { clientId: agentX.clientId, redirectUri: agentX.redirectUri },
        { scope: "openid marketplace:admin" },
      ),
    ).rejects.toThrow();
  });
});

describe("F.2 usage writes are the agent's act", () => {
  it("F.2a the user's own cookie can neither release nor consume; the counter does not move", async () => {
    const path = `/me/agents/${agentX.id}/usage/kbs`;
    const consumed = await bearerCall(t.url, member.token, "POST", `${path}/consume`, {
      delta: 2,
      clientReqId: randomUUID(),
    });
    expect(consumed.status).toBe(200);
    for (const action of ["release", "consume"]) {
      const response = await call(member.browser, "POST", `${path}/${action}`, {
        delta: 1,
        clientReqId: randomUUID(),
      });
      expect(response.status, action).toBe(403);
    }
    expect((await call(member.browser, "GET", path)).body.data).toMatchObject({ used: 2, remaining: 0 });
  });
});

describe("F.6 cookie-authenticated state changes refuse foreign origins", () => {
  it("F.6a cancel with a foreign Origin or a cross-site fetch is 403 and changes nothing; the marketplace's own origin works", async () => {
    const who = await agentUser(t, agentY);
    await subscribeFree(who, agentY);
    const cancel = (headers: Record<string, string>) =>
      who.browser.fetch(`/me/subscriptions/${agentY.id}/cancel`, { method: "POST", headers });
    expect((await cancel({ origin: "http://localhost:1" })).status).toBe(403);
    expect((await cancel({ origin: "null" })).status).toBe(403);
    expect((await cancel({ "sec-fetch-site": "same-site" })).status).toBe(403);
    expect((await cancel({ "sec-fetch-site": "cross-site" })).status).toBe(403);
    // Cookies but neither header: not a browser we can vouch for (the agent's rule too).
    expect((await cancel({})).status).toBe(403);
    expect((await call(who.browser, "GET", `/me/subscriptions/${agentY.id}`)).status).toBe(200);
    expect((await cancel({ origin: t.url })).status).toBe(200);
    expect((await call(who.browser, "GET", `/me/subscriptions/${agentY.id}`)).status).toBe(404);
  });

  it("F.6b a rename from a foreign origin is refused", async () => {
    const who = await signedInBrowser(t.url);
    const response = await who.browser.fetch("/me", {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/json" },
      body: JSON.stringify({ name: "Pwned" }),
    });
    expect(response.status).toBe(403);
    expect((await call(who.browser, "GET", "/me")).body.data.name).not.toBe("Pwned");
  });
});

describe("F.9 banned users lose every credential", () => {
  it("F.9a a JWT from /api/auth/token obtained before a ban no longer opens /me after it", async () => {
    const who = await signedInBrowser(t.url);
    const { token } = (await (await who.browser.fetch("/api/auth/token")).json()) as { token: string };
    expect((await bearerCall(t.url, token, "GET", "/me")).status).toBe(200);
    await t.mp.database.db.update(user).set({ banned: true }).where(eq(user.id, who.userId));
    expect((await bearerCall(t.url, token, "GET", "/me")).status).toBe(401);
    expect((await call(who.browser, "GET", "/me")).status).toBe(401);
  });
});
