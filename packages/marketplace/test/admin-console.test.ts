import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { stripeEvents } from "../src/db/schema.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  call,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { type Browser, signedInBrowser } from "./support/oauth.ts";

/** The operator console's API, over HTTP against a real marketplace. */
let t: TestMarketplace;
let admin: Browser;
beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
});
afterAll(() => t?.close());

interface AuditRow {
  action: string;
  after: Record<string, unknown>;
}
const audit = async (query: string) =>
  (await call<AuditRow[]>(admin, "GET", `/admin/audit?${query}`)).body.data;

describe("agents: partial update and status transitions", () => {
  it("PATCH changes only the fields sent; POST (full update) still resets omitted ones", async () => {
    const slug = `patch-${Date.now().toString(36)}`;
    const created = await call(admin, "POST", "/agents", {
      name: "Patch me",
      slug,
      tagline: "Answers from your documents",
      description: "Long enough",
      redirectUris: [`https://${slug}.example.com/cb`],
    });
    expect(created.status).toBe(201);
    const id = created.body.data.id;

    const patched = await call(admin, "PATCH", `/agents/${id}`, { status: "coming_soon" });
    expect(patched.status).toBe(200);
    expect(patched.body.data).toMatchObject({
      status: "coming_soon",
      tagline: "Answers from your documents",
      description: "Long enough",
      name: "Patch me",
    });
    const retagged = await call(admin, "PATCH", `/agents/${id}`, { tagline: "New tagline" });
    expect(retagged.body.data).toMatchObject({ tagline: "New tagline", description: "Long enough" });
    // null clears a field explicitly.
    const cleared = await call(admin, "PATCH", `/agents/${id}`, { description: null });
    expect(cleared.body.data).toMatchObject({ tagline: "New tagline", description: null });

    // Bad input is a 400 and changes nothing: unknown field, empty body, bad value.
    for (const body of [{ bogus: 1 }, {}, { status: "published" }, { redirectUris: [] }]) {
      const refused = await call(admin, "PATCH", `/agents/${id}`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
      expect(refused.body.error?.code).toBe("BAD_REQUEST");
    }
    expect((await call(admin, "GET", `/agents/${id}`)).body.data).toMatchObject({
      tagline: "New tagline",
      status: "coming_soon",
    });
    expect((await call(admin, "PATCH", `/agents/${randomUUID()}`, { tagline: "x" })).status).toBe(404);

    // The full update is what it says: a field left out takes its default (the reason PATCH exists).
    const current = (await call(admin, "GET", `/agents/${id}`)).body.data;
    const full = await call(admin, "POST", `/agents/${id}`, {
      name: current.name,
      slug,
      status: "coming_soon",
      redirectUris: current.redirectUris,
    });
    expect(full.body.data).toMatchObject({ status: "coming_soon", tagline: null });
  });

  it("every transition the contract allows, including active → inactive → active, keeps the client in step", async () => {
    const slug = `life-${Date.now().toString(36)}`;
    const created = await call(admin, "POST", "/agents", {
      name: "Lifecycle",
      slug,
      tagline: "Keep me",
      redirectUris: [`https://${slug}.example.com/cb`],
    });
    const id = created.body.data.id;
    const status = async (to: string) => call(admin, "PATCH", `/agents/${id}`, { status: to });

    expect((await status("active")).status).toBe(200);
    // A live agent is not sent back to draft or "coming soon" under its subscribers.
    for (const to of ["draft", "coming_soon"]) {
      const refused = await status(to);
      expect(refused.status).toBe(422);
      expect(refused.body.error?.message).toContain("allowed: active, inactive");
    }
    const inactive = await status("inactive");
    expect(inactive.status).toBe(200);
    expect(inactive.body.data).toMatchObject({ status: "inactive", tagline: "Keep me" });
    // Hidden from the public catalog, and its OAuth client is disabled.
    expect((await fetch(`${t.url}/agents/by-slug/${slug}`)).status).toBe(404);
    const client = await t.mp.database.sql.query<{ disabled: boolean }>(
      `SELECT "disabled" FROM "oauthClient" WHERE "clientId" = $1`,
      [created.body.data.oauthClientId],
    );
    expect(client.rows[0]?.disabled).toBe(true);

    const back = await status("active");
    expect(back.body.data).toMatchObject({ status: "active", tagline: "Keep me" });
    expect((await fetch(`${t.url}/agents/by-slug/${slug}`)).status).toBe(200);
    const enabled = await t.mp.database.sql.query<{ disabled: boolean }>(
      `SELECT "disabled" FROM "oauthClient" WHERE "clientId" = $1`,
      [created.body.data.oauthClientId],
    );
    expect(enabled.rows[0]?.disabled).toBe(false);

    // The slug of a published agent cannot change.
    const reslug = await call(admin, "PATCH", `/agents/${id}`, { slug: `${slug}-x` });
    expect(reslug.status).toBe(422);

    const changes = await audit(`action=agent.update&targetId=${id}`);
    expect(changes.map((row) => row.after.status)).toEqual(["active", "inactive", "active"]);
  });

  it("a tier's presentation changes with PATCH; its price terms cannot", async () => {
    const agent = await registerAgent(admin, { questions: ["fixed", 5, 50] });
    const path = `/agents/${agent.id}/pricing/${agent.pro.id}`;
    const edited = await call(admin, "PATCH", path, {
      tierName: "Professional",
      featuresIncluded: ["Priority answers"],
    });
    expect(edited.status).toBe(200);
    expect(edited.body.data).toMatchObject({
      tierName: "Professional",
      featuresIncluded: ["Priority answers"],
      price: "19.00",
      recommended: true,
    });
    for (const body of [{ price: "5.00" }, { isFree: true }, { billingInterval: "year" }, {}]) {
      const refused = await call(admin, "PATCH", path, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    expect(
      (await call(admin, "PATCH", `/agents/${agent.id}/pricing/${randomUUID()}`, { sortOrder: 1 })).status,
    ).toBe(404);
    const [change] = await audit(`action=tier.update&targetId=${agent.pro.id}`);
    expect(change?.after).toMatchObject({ tierName: "Professional" });
  });

  it("metric slug and kind cannot be changed", async () => {
    const agent = await registerAgent(admin, { questions: ["fixed", 5, 50] });
    const metricId = agent.metrics.questions!.id;
    for (const body of [{ slug: "answers" }, { kind: "rolling" }]) {
      const refused = await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, body);
      expect(refused.status, JSON.stringify(body)).toBe(400);
    }
    const relabeled = await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, {
      displayName: "Questions",
    });
    expect(relabeled.body.data).toMatchObject({ slug: "questions", kind: "fixed", displayName: "Questions" });
  });
});

describe("users: search, role, ban", () => {
  it("searches by email, changes a role, bans (sessions and tokens stop) and unbans, audited", async () => {
    const agent = await registerAgent(admin, { questions: ["fixed", 5, 50] });
    const tag = `findme${Date.now().toString(36)}`;
    const target = await signedInBrowser(t.url, { email: `${tag}@example.com`, name: "Target User" });
    const withToken = await agentUser(t, agent);

    const found = await call(admin, "GET", `/admin/users?q=${tag.toUpperCase()}`);
    expect(found.status).toBe(200);
    expect(found.body.data.map((u: { id: string }) => u.id)).toEqual([target.userId]);
    // LIKE metacharacters match literally.
    expect((await call(admin, "GET", "/admin/users?q=%25")).body.data).toEqual([]);

    const promoted = await call(admin, "POST", `/admin/users/${target.userId}/role`, { role: "org_admin" });
    expect(promoted.status).toBe(200);
    expect(promoted.body.data.role).toBe("org_admin");
    expect((await call(admin, "POST", `/admin/users/${target.userId}/role`, { role: "king" })).status).toBe(
      400,
    );

    expect((await call(target.browser, "GET", "/me")).status).toBe(200);
    const banned = await call(admin, "POST", `/admin/users/${target.userId}/ban`, { reason: "spam" });
    expect(banned.status).toBe(200);
    expect(banned.body.data.banned).toBe(true);
    expect((await call(target.browser, "GET", "/me")).status).toBe(401);
    expect((await call(admin, "GET", `/admin/users?banned=true&q=${tag}`)).body.data).toHaveLength(1);

    expect((await bearerCall(t.url, withToken.token, "GET", `/me/agents/${agent.id}/usage`)).status).not.toBe(
      401,
    );
    await call(admin, "POST", `/admin/users/${withToken.userId}/ban`, {});
    expect((await bearerCall(t.url, withToken.token, "GET", `/me/agents/${agent.id}/usage`)).status).toBe(
      401,
    );

    const unbanned = await call(admin, "POST", `/admin/users/${target.userId}/unban`);
    expect(unbanned.body.data.banned).toBe(false);
    const actions = (await audit(`targetId=${target.userId}`)).map((row) => row.action);
    expect(actions).toEqual(["user.unban", "user.ban", "user.role"]);

    expect((await call(admin, "POST", `/admin/users/${randomUUID()}/ban`, {})).status).toBe(404);
  });

  it("an admin cannot ban or demote themselves", async () => {
    const me = (await call(admin, "GET", "/me")).body.data;
    expect((await call(admin, "POST", `/admin/users/${me.id}/ban`, {})).status).toBe(422);
    expect((await call(admin, "POST", `/admin/users/${me.id}/role`, { role: "org_member" })).status).toBe(
      422,
    );
    expect((await call(admin, "GET", "/me")).body.data.role).toBe("platform_admin");
  });
});

describe("subscriptions and usage across users; addons", () => {
  it("finds a user's subscription by email and agent, pages, shows usage, grants and revokes an addon", async () => {
    const agent = await registerAgent(admin, { questions: ["fixed", 5, 50] });
    const tag = `sub${Date.now().toString(36)}`;
    const subscribers = [];
    for (let i = 0; i < 3; i++) {
      const who = await signedInBrowser(t.url, { email: `${tag}-${i}@example.com` });
      subscribers.push({ ...who, subscriptionId: await subscribeFree(who, agent) });
    }
    const one = await call(admin, "GET", `/admin/subscriptions?email=${tag}-1@`);
    expect(one.body.data).toHaveLength(1);
    expect(one.body.data[0]).toMatchObject({
      id: subscribers[1]!.subscriptionId,
      user: { email: `${tag}-1@example.com` },
      agent: { id: agent.id, slug: agent.slug },
      tier: { tierName: "Free" },
      status: "active",
    });

    // Pages of 2 over the agent's 3 subscriptions: every one once, newest first.
    const first = await call(admin, "GET", `/admin/subscriptions?agentId=${agent.id}&limit=2`);
    expect(first.body.pagination).toMatchObject({ hasMore: true, limit: 2 });
    const second = await call(
      admin,
      "GET",
      `/admin/subscriptions?agentId=${agent.id}&limit=2&cursor=${first.body.pagination!.cursor}`,
    );
    expect(second.body.pagination?.hasMore).toBe(false);
    const ids = [...first.body.data, ...second.body.data].map((s: { id: string }) => s.id);
    expect(ids).toEqual(subscribers.map((s) => s.subscriptionId).reverse());
    expect((await call(admin, "GET", "/admin/subscriptions?cursor=nonsense")).status).toBe(400);

    const target = subscribers[0]!;
    const granted = await call(admin, "POST", `/admin/subscriptions/${target.subscriptionId}/addons`, {
      metricSlug: "questions",
      amount: 10,
      scope: "permanent",
    });
    expect(granted.status).toBe(201);
    const detail = await call(admin, "GET", `/admin/subscriptions/${target.subscriptionId}`);
    expect(detail.body.data.addons).toEqual([
      expect.objectContaining({ id: granted.body.data.id, amount: 10 }),
    ]);
    expect(detail.body.data.usage).toEqual([
      expect.objectContaining({ metricSlug: "questions", baseQuota: 5, addonsBonus: 10, effectiveQuota: 15 }),
    ]);
    const usage = await call(admin, "GET", `/admin/usage?agentId=${agent.id}&email=${tag}-0`);
    expect(usage.body.data).toEqual([
      expect.objectContaining({
        subscriptionId: target.subscriptionId,
        usage: [expect.objectContaining({ metricSlug: "questions", effectiveQuota: 15, used: 0 })],
      }),
    ]);

    expect((await call(admin, "DELETE", `/admin/addons/${granted.body.data.id}`)).status).toBe(200);
    const after = await call(admin, "GET", `/admin/subscriptions/${target.subscriptionId}`);
    expect(after.body.data.addons[0].revokedAt).not.toBeNull();
    expect(after.body.data.usage[0].effectiveQuota).toBe(5);
    expect((await call(admin, "GET", `/admin/subscriptions/${randomUUID()}`)).status).toBe(404);
  });
});

describe("Stripe events", () => {
  it("lists stored events and replays one idempotently, audited", async () => {
    const db = t.mp.database.db;
    const failing = `evt_fail_${Date.now()}`;
    const fixable = `evt_ok_${Date.now()}`;
    const at = new Date();
    await db.insert(stripeEvents).values([
      {
        id: failing,
        type: "checkout.session.completed",
        eventCreatedAt: at,
        // No marketplace metadata: processing fails every time.
        payload: {
          id: failing,
          type: "checkout.session.completed",
          created: Math.floor(at.getTime() / 1000),
          data: { object: { id: "cs_1", metadata: {} } },
        },
        status: "error",
        error: "earlier failure",
        attempts: 1,
      },
      {
        id: fixable,
        type: "customer.subscription.deleted",
        eventCreatedAt: at,
        payload: {
          id: fixable,
          type: "customer.subscription.deleted",
          created: Math.floor(at.getTime() / 1000),
          data: { object: { id: "sub_unknown", canceled_at: null } },
        },
        status: "error",
        error: "database was down",
        attempts: 1,
      },
    ]);
    const listed = await call(admin, "GET", "/admin/stripe/events?status=error");
    expect(listed.body.data.map((e: { id: string }) => e.id)).toEqual(
      expect.arrayContaining([failing, fixable]),
    );
    expect(listed.body.data.find((e: { id: string }) => e.id === fixable)).toMatchObject({
      type: "customer.subscription.deleted",
      error: "database was down",
      attempts: 1,
    });

    const replay = await call(admin, "POST", `/admin/stripe/events/${fixable}/replay`);
    expect(replay.status).toBe(200);
    expect(replay.body.data).toMatchObject({
      replayed: true,
      event: { status: "processed", error: null, attempts: 2 },
    });
    // Again: already processed, nothing runs.
    const again = await call(admin, "POST", `/admin/stripe/events/${fixable}/replay`);
    expect(again.body.data).toMatchObject({ replayed: false, event: { status: "processed", attempts: 2 } });

    const stillFailing = await call(admin, "POST", `/admin/stripe/events/${failing}/replay`);
    expect(stillFailing.body.data).toMatchObject({ replayed: true, event: { status: "error", attempts: 2 } });
    expect(stillFailing.body.data.event.error).toContain("no marketplace metadata");

    expect((await call(admin, "POST", `/admin/stripe/events/evt_nope/replay`)).status).toBe(404);
    const audited = await audit(`action=stripe.replay&targetId=${fixable}`);
    expect(audited.map((row) => row.after.replayed)).toEqual([false, true]);
  });

  it("a member and an agent token get no admin data", async () => {
    const member = await signedInBrowser(t.url);
    for (const path of ["/admin/users", "/admin/subscriptions", "/admin/usage", "/admin/stripe/events"])
      expect((await call(member.browser, "GET", path)).status, path).toBe(403);
  });
});
