import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asOperator } from "../src/audit/context.ts";
import { createClient } from "../src/clients/service.ts";
import { ensureAdmin } from "../src/users/service.ts";
import {
  adminBrowser,
  agentUser,
  call,
  type DemoAgent,
  type Envelope,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { type Browser, fullFlow, signedInBrowser, tokenRequest } from "./support/oauth.ts";

let t: TestMarketplace;
let admin: Browser;
let adminId: string;
let agent: DemoAgent;

interface Row {
  id: string;
  at: string;
  actorId: string | null;
  actorKind: string;
  action: string;
  targetType: string;
  targetId: string | null;
  // biome-ignore lint/suspicious/noExplicitAny: rows hold whatever record changed
  before: any;
  // biome-ignore lint/suspicious/noExplicitAny: as above
  after: any;
  requestId: string | null;
}

beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
  adminId = (await call(admin, "GET", "/me")).body.data.id;
  agent = await registerAgent(admin, { messages: ["rolling", 5, 50] });
});
afterAll(() => t?.close());

async function audit(query: Record<string, string>) {
  const response = await call<Row[]>(admin, "GET", `/admin/audit?${new URLSearchParams(query)}`);
  expect(response.status).toBe(200);
  return response.body as Envelope<Row[]>;
}
const only = async (query: Record<string, string>) => {
  const rows = (await audit(query)).data;
  expect(rows).toHaveLength(1);
  return rows[0]!;
};

describe("audit log: a row for each admin change, with before and after", () => {
  it("agents: create, update, deactivate (with the request id and the admin as actor)", async () => {
    const created = await only({ action: "agent.create", targetId: agent.id });
    expect(created).toMatchObject({ actorId: adminId, actorKind: "user", targetType: "agent", before: null });
    expect(created.after).toMatchObject({ id: agent.id, slug: agent.slug, status: "active" });
    expect(created.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const current = (await call(admin, "GET", `/agents/${agent.id}`)).body.data;
    const input = {
      name: "Renamed agent",
      slug: agent.slug,
      status: "active",
      redirectUris: current.redirectUris,
      productDomain: current.productDomain,
    };
    const updated = await call(admin, "POST", `/agents/${agent.id}`, input);
    expect(updated.status).toBe(200);
    const update = await only({ action: "agent.update", targetId: agent.id });
    expect(update.before.name).toBe(current.name);
    expect(update.after.name).toBe("Renamed agent");
    expect(update.requestId).toBe(updated.headers.get("x-request-id"));
    // The agent's client was renamed with it: a client change, recorded as such.
    const client = await only({ action: "client.update", targetId: agent.clientId });
    expect([client.before.name, client.after.name]).toEqual([current.name, "Renamed agent"]);
    expect(client.after).not.toHaveProperty("clientSecret");

    // A refused change writes nothing.
    const refused = await call(admin, "POST", `/agents/${agent.id}`, { ...input, status: "draft" });
    expect(refused.status).toBe(422);
    expect((await audit({ action: "agent.update", targetId: agent.id })).data).toHaveLength(1);

    const other = await registerAgent(admin, {});
    expect((await call(admin, "DELETE", `/agents/${other.id}`)).status).toBe(200);
    const deactivated = await only({ action: "agent.deactivate", targetId: other.id });
    expect([deactivated.before.status, deactivated.after.status]).toEqual(["active", "inactive"]);
    const disabled = await only({ action: "client.update", targetId: other.clientId });
    expect([disabled.before.disabled, disabled.after.disabled]).toEqual([false, true]);
  });

  it("tiers: create and archive", async () => {
    const created = await only({ action: "tier.create", targetId: agent.pro.id });
    expect(created.after).toMatchObject({ tierName: "Pro", price: "19.00", archivedAt: null });
    const tier = await call(admin, "POST", `/agents/${agent.id}/pricing`, { tierName: "Team", isFree: true });
    expect((await call(admin, "DELETE", `/agents/${agent.id}/pricing/${tier.body.data.id}`)).status).toBe(
      200,
    );
    const archived = await only({ action: "tier.archive", targetId: tier.body.data.id });
    expect(archived.before.archivedAt).toBeNull();
    expect(archived.after.archivedAt).toEqual(expect.any(String));
  });

  it("metrics and quotas: define, relabel, set twice", async () => {
    const metricId = agent.metrics.messages!.id;
    expect((await only({ action: "metric.create", targetId: metricId })).after.slug).toBe("messages");
    const relabel = await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, {
      displayName: "Chats",
    });
    expect(relabel.status).toBe(200);
    const metric = await only({ action: "metric.update", targetId: metricId });
    expect([metric.before.displayName, metric.after.displayName]).toEqual(["messages", "Chats"]);

    const quotaPath = `/agents/${agent.id}/pricing/${agent.free.id}/quotas/${metricId}`;
    expect((await call(admin, "PUT", quotaPath, { quotaLimit: 7 })).status).toBe(200);
    const [latest, first] = (await audit({ action: "quota.set", targetId: `${agent.free.id}/${metricId}` }))
      .data;
    expect([first!.before, first!.after.quotaLimit]).toEqual([null, 5]);
    expect([latest!.before.quotaLimit, latest!.after.quotaLimit]).toEqual([5, 7]);
  });

  it("addons: grant and revoke (revoking again records nothing)", async () => {
    const user = await agentUser(t, agent);
    const subscriptionId = await subscribeFree(user, agent);
    const granted = await call(admin, "POST", `/admin/subscriptions/${subscriptionId}/addons`, {
      metricSlug: "messages",
      amount: 10,
      scope: "permanent",
    });
    expect(granted.status).toBe(201);
    const addonId = granted.body.data.id;
    const grant = await only({ action: "addon.grant", targetId: addonId });
    expect(grant.after).toMatchObject({ subscriptionId, amount: 10, grantedBy: adminId, revokedAt: null });
    expect((await call(admin, "DELETE", `/admin/addons/${addonId}`)).status).toBe(200);
    expect((await call(admin, "DELETE", `/admin/addons/${addonId}`)).status).toBe(200);
    const revoke = await only({ action: "addon.revoke", targetId: addonId });
    expect(revoke.before.revokedAt).toBeNull();
    expect(revoke.after.revokedAt).toEqual(expect.any(String));
  });

  it("user roles and bans through better-auth's admin endpoints", async () => {
    const target = await signedInBrowser(t.url);
    const post = (path: string, body: unknown) =>
      admin.fetch(`/api/auth/admin/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json", origin: t.url },
        body: JSON.stringify(body),
      });
    expect((await post("set-role", { userId: target.userId, role: "platform_admin" })).status).toBe(200);
    expect((await post("set-role", { userId: target.userId, role: "org_member" })).status).toBe(200);
    expect((await post("ban-user", { userId: target.userId, banReason: "spam" })).status).toBe(200);
    expect((await post("unban-user", { userId: target.userId })).status).toBe(200);

    const rows = (await audit({ targetType: "user", targetId: target.userId })).data.reverse();
    expect(rows.map((r) => r.action)).toEqual(["user.role", "user.role", "user.ban", "user.unban"]);
    expect(rows.every((r) => r.actorId === adminId && r.actorKind === "user" && r.requestId)).toBe(true);
    expect([rows[0]!.before.role, rows[0]!.after.role]).toEqual(["org_member", "platform_admin"]);
    expect([rows[1]!.before.role, rows[1]!.after.role]).toEqual(["platform_admin", "org_member"]);
    expect([rows[2]!.before.banned, rows[2]!.after.banned, rows[2]!.after.banReason]).toEqual([
      false,
      true,
      "spam",
    ]);
    expect([rows[3]!.before.banned, rows[3]!.after.banned]).toEqual([true, false]);
  });

  it("operator commands are recorded with the CLI as actor", async () => {
    const client = await asOperator(() =>
      createClient(t.mp.database.db, { name: "Ops client", redirectUris: ["https://ops.example.com/cb"] }),
    );
    const row = await only({ action: "client.create", targetId: client.clientId });
    expect(row).toMatchObject({ actorId: "cli", actorKind: "cli", requestId: null, before: null });
    expect(row.after).toMatchObject({ name: "Ops client", redirectUris: ["https://ops.example.com/cb"] });
    expect(row.after).not.toHaveProperty("clientSecret");
  });

  it("create-admin's promotion is recorded with the CLI as actor; an admin already is one records nothing", async () => {
    const someone = await signedInBrowser(t.url);
    const promote = () =>
      asOperator(() => ensureAdmin(t.mp.auth, t.mp.database.db, { email: someone.email, promote: true }));
    expect((await promote()).outcome).toBe("promoted");
    expect((await promote()).outcome).toBe("unchanged");
    const row = await only({ action: "user.role", targetId: someone.userId });
    expect(row).toMatchObject({ actorId: "cli", actorKind: "cli" });
    expect([row.before.role, row.after.role]).toEqual(["org_member", "platform_admin"]);
  });

  it("a revocation the provider accepted is a security event", async () => {
    const user = await agentUser(t, agent);
    const revoked = await fetch(`${t.issuer}/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: user.token, client_id: agent.clientId }),
    });
    expect(revoked.status).toBe(200);
    const rows = (await audit({ action: "oauth.revoke", targetId: agent.clientId })).data;
    expect(rows.length).toBe(1);
    expect(JSON.stringify(rows)).not.toContain(user.token);
  });
});

describe("GET /admin/audit", () => {
  it("filters by actor, action prefix and time, and pages by cursor without gaps or repeats", async () => {
    const all = (await audit({ actor: adminId, limit: "200" })).data;
    expect(all.length).toBeGreaterThan(5);
    expect(all.every((r) => r.actorId === adminId)).toBe(true);
    expect(all.map((r) => Number(r.id))).toEqual([...all.map((r) => Number(r.id))].sort((a, b) => b - a));

    const agentRows = (await audit({ action: "agent.*", limit: "200" })).data;
    expect(new Set(agentRows.map((r) => r.action))).toEqual(
      new Set(["agent.create", "agent.update", "agent.deactivate"]),
    );

    const seen: string[] = [];
    let cursor: string | null | undefined;
    do {
      const page = await audit({ actor: adminId, limit: "3", ...(cursor ? { cursor } : {}) });
      seen.push(...page.data.map((r) => r.id));
      cursor = page.pagination?.cursor;
    } while (cursor);
    expect(seen).toEqual(all.map((r) => r.id));

    const future = new Date(Date.now() + 60_000).toISOString();
    expect((await audit({ since: future })).data).toEqual([]);
    expect((await audit({ until: all.at(-1)!.at, actor: adminId })).data).toEqual([]);
  });

  it("answers 400 to bad filters and 403 to a user who is not an admin", async () => {
    expect((await call(admin, "GET", "/admin/audit?since=yesterday")).status).toBe(400);
    expect((await call(admin, "GET", "/admin/audit?cursor=abc")).status).toBe(400);
    expect((await call(admin, "GET", `/admin/audit?nonsense=${randomUUID()}`)).status).toBe(400);
    const someone = await signedInBrowser(t.url);
    const refused = await call(someone.browser, "GET", "/admin/audit");
    expect(refused.status).toBe(403);
  });
});

describe("audit log: append-only in the database", () => {
  it("UPDATE, DELETE and TRUNCATE on audit_log fail, and the rows stay", async () => {
    const sql = t.mp.database.sql;
    const count = async () =>
      (await sql.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log")).rows[0]!.n;
    const before = await count();
    expect(before).toBeGreaterThan(0);
    await expect(sql.query("UPDATE audit_log SET action = 'forged'")).rejects.toThrow(/append-only/);
    await expect(sql.query("DELETE FROM audit_log")).rejects.toThrow(/append-only/);
    await expect(sql.query("TRUNCATE audit_log")).rejects.toThrow(/append-only/);
    expect(await count()).toBe(before);
    expect((await sql.query("SELECT 1 FROM audit_log WHERE action = 'forged'")).rows).toEqual([]);
  });
});

describe("audit log: security events", () => {
  it("a sign-in refused by the rate limiter is recorded with the caller's address", async () => {
    const limited = await startTestMarketplace({ RATE_LIMIT: "on" });
    try {
      const who = await signedInBrowser(limited.url);
      const statuses: number[] = [];
      for (let i = 0; i < 12; i++) {
        const response = await fetch(`${limited.url}/api/auth/sign-in/email`, {
          method: "POST",
          headers: { "content-type": "application/json", origin: limited.url },
          body: JSON.stringify({ email: who.email, password: "not the password" }),
        });
        statuses.push(response.status);
      }
      const refused = statuses.filter((s) => s === 429).length;
      expect(refused).toBeGreaterThan(0);
      const { rows } = await limited.mp.database.sql.query<{ actorKind: string; targetId: string }>(
        `SELECT "actorKind", "targetId" FROM audit_log WHERE action = 'auth.sign_in_rate_limited'`,
      );
      expect(rows).toHaveLength(refused);
      expect(rows.map((r) => [r.actorKind, r.targetId])).toEqual(rows.map(() => ["anonymous", "127.0.0.1"]));
    } finally {
      await limited.close();
    }
  });

  it("a replayed code and a reused refresh token are recorded and counted as theft signals", async () => {
    const metric = async (kind: string) => {
      const text = await (await fetch(`${t.url}/metrics`)).text();
      const line = text
        .split("\n")
        .find((l) => l.startsWith(`marketplace_oauth_grant_replays_total{kind="${kind}"}`));
      return Number(line?.split(" ").at(-1) ?? 0);
    };
    const before = { code: await metric("code_replay"), refresh: await metric("refresh_reuse") };
    const who = await signedInBrowser(t.url);
    const client = { clientId: agent.clientId, redirectUri: agent.redirectUri };
    const first = await fullFlow(t.issuer, who.browser, client);
    const redeem = {
      grant_type: "authorization_code",
      code: first.code!,
      redirect_uri: agent.redirectUri,
      client_id: agent.clientId,
      code_verifier: first.pkce.verifier,
    };
    expect((await tokenRequest(t.issuer, redeem)).status).toBe(400);
    const second = await fullFlow(t.issuer, who.browser, client);
    const refresh = {
      grant_type: "refresh_token",
      refresh_token: second.tokens.refresh_token!,
      client_id: agent.clientId,
    };
    expect((await tokenRequest(t.issuer, refresh)).status).toBe(200);
    expect((await tokenRequest(t.issuer, refresh)).status).toBe(400);
    const rows = (await audit({ targetId: agent.clientId, action: "oauth.*" })).data.filter(
      (r) => r.action.startsWith("oauth.code_replay") || r.action.startsWith("oauth.refresh_reuse"),
    );
    expect(rows.map((r) => [r.action, r.after.userId]).sort()).toEqual([
      ["oauth.code_replay", who.userId],
      ["oauth.refresh_reuse", who.userId],
    ]);
    expect(await metric("code_replay")).toBe(before.code + 1);
    expect(await metric("refresh_reuse")).toBe(before.refresh + 1);
  });
});
