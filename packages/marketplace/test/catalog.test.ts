import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  call,
  confirmDevCheckout,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import {
  authorizeCode,
  type Browser,
  decodeJwt,
  fullFlow,
  signedInBrowser,
  tokenRequest,
} from "./support/oauth.ts";

let t: TestMarketplace;
let admin: Browser;
beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
});
afterAll(() => t?.close());

const agentBody = (slug: string, extra: Record<string, unknown> = {}) => ({
  name: `Agent ${slug}`,
  slug,
  redirectUris: [`https://${slug}.example.com/api/auth/oauth2/callback/marketplace`],
  ...extra,
});

describe("catalog", () => {
  it("POST /agents creates the agent and its public OAuth client; members get 403, anonymous 401", async () => {
    const member = await signedInBrowser(t.url);
    expect((await call(member.browser, "POST", "/agents", agentBody("nope"))).status).toBe(403);
    expect(
      (
        await fetch(`${t.url}/agents`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: "{}",
        })
      ).status,
    ).toBe(401);

    const created = await call(admin, "POST", "/agents", agentBody("kb-helper", { status: "active" }));
    expect(created.status).toBe(201);
    expect(created.body.data).toEqual({
      id: expect.any(String),
      slug: "kb-helper",
      oauthClientId: expect.any(String),
      redirectUris: ["https://kb-helper.example.com/api/auth/oauth2/callback/marketplace"],
    });
    // The client works at once: a user can sign in with PKCE and no secret.
    const user = await signedInBrowser(t.url);
    const flow = await fullFlow(t.issuer, user.browser, {
      clientId: created.body.data.oauthClientId,
      redirectUri: created.body.data.redirectUris[0],
    });
    expect(flow.tokens.access_token).toBeTruthy();
  });

  it("slugs are unique (409) and immutable once published (422); bad input is 400", async () => {
    expect((await call(admin, "POST", "/agents", agentBody("kb-helper"))).status).toBe(409);
    const draft = await call(admin, "POST", "/agents", agentBody("draft-one"));
    const renamed = await call(
      admin,
      "POST",
      `/agents/${draft.body.data.id}`,
      agentBody("draft-one-renamed"),
    );
    expect(renamed.status).toBe(200);
    expect(renamed.body.data.slug).toBe("draft-one-renamed");
    const published = await call(
      admin,
      "POST",
      `/agents/${draft.body.data.id}`,
      agentBody("draft-one-renamed", { status: "active" }),
    );
    expect(published.body.data.publishedAt).not.toBeNull();
    const locked = await call(
      admin,
      "POST",
      `/agents/${draft.body.data.id}`,
      agentBody("another-slug", { status: "active" }),
    );
    expect(locked.status).toBe(422);
    expect(locked.body.error!.message).toContain("cannot change");
    for (const bad of [
      {},
      agentBody("Bad Slug"),
      agentBody("ok-slug", { redirectUris: [] }),
      agentBody("ok-slug", { status: "gone" }),
    ]) {
      expect((await call(admin, "POST", "/agents", bad)).status).toBe(400);
    }
  });

  it("status transitions: draft → coming_soon → active → inactive → active; active cannot go back to draft", async () => {
    const { body } = await call(admin, "POST", "/agents", agentBody("stepper"));
    const id = body.data.id;
    expect(
      (await call(admin, "POST", `/agents/${id}`, agentBody("stepper", { status: "coming_soon" }))).status,
    ).toBe(200);
    expect(
      (await call(admin, "POST", `/agents/${id}`, agentBody("stepper", { status: "active" }))).status,
    ).toBe(200);
    expect(
      (await call(admin, "POST", `/agents/${id}`, agentBody("stepper", { status: "draft" }))).status,
    ).toBe(422);
    // Taking an agent down is a status change like any other (DELETE does the same), and it can come back.
    expect(
      (await call(admin, "POST", `/agents/${id}`, agentBody("stepper", { status: "inactive" }))).status,
    ).toBe(200);
    expect(
      (await call(admin, "POST", `/agents/${id}`, agentBody("stepper", { status: "active" }))).status,
    ).toBe(200);
  });

  it("updating redirect URIs updates the client", async () => {
    const { body } = await call(admin, "POST", "/agents", agentBody("mover", { status: "active" }));
    const newUri = "https://moved.example.com/api/auth/oauth2/callback/marketplace";
    await call(
      admin,
      "POST",
      `/agents/${body.data.id}`,
      agentBody("mover", { status: "active", redirectUris: [newUri] }),
    );
    const user = await signedInBrowser(t.url);
    const old = await authorizeCode(t.issuer, user.browser, {
      clientId: body.data.oauthClientId,
      redirectUri: body.data.redirectUris[0],
    });
    expect(old.code).toBeNull();
    const moved = await authorizeCode(t.issuer, user.browser, {
      clientId: body.data.oauthClientId,
      redirectUri: newUri,
    });
    expect(moved.code).toBeTruthy();
  });

  it("DELETE makes the agent inactive: authorize, refresh and bearer calls stop working", async () => {
    const agent = await registerAgent(admin, { messages: ["rolling", 10, 100] });
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const deleted = await call(admin, "DELETE", `/agents/${agent.id}`);
    expect(deleted.body.data.status).toBe("inactive");
    t.mp.bearer.clear();
    const again = await authorizeCode(t.issuer, user.browser, {
      clientId: agent.clientId,
      redirectUri: agent.redirectUri,
    });
    expect(again.code).toBeNull();
    const refresh = await tokenRequest(t.issuer, {
      grant_type: "refresh_token",
      refresh_token: user.tokens.refresh_token!,
      client_id: agent.clientId,
    });
    expect(refresh.status).toBeGreaterThanOrEqual(400);
    expect((await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(401);
  });

  it("GET /agents lists active and coming_soon publicly; platform admins may ask for all, page by page", async () => {
    await call(admin, "POST", "/agents", agentBody("soon", { status: "coming_soon" }));
    await call(admin, "POST", "/agents", agentBody("hidden-draft"));
    const pub = await (await fetch(`${t.url}/agents?limit=100`)).json();
    const slugs = pub.data.map((a: { slug: string }) => a.slug);
    expect(slugs).toContain("soon");
    expect(slugs).not.toContain("hidden-draft");
    expect(pub.data.every((a: { status: string }) => ["active", "coming_soon"].includes(a.status))).toBe(
      true,
    );
    expect((await fetch(`${t.url}/agents?all=true`)).status).toBe(403);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/agents?all=true&limit=2${cursor ? `&cursor=${cursor}` : ""}`;
      const page = await call<{ slug: string }[]>(admin, "GET", url);
      seen.push(...page.body.data.map((a) => a.slug));
      cursor = page.body.pagination!.hasMore ? page.body.pagination!.cursor : null;
    } while (cursor);
    expect(seen).toContain("hidden-draft");
    expect(new Set(seen).size).toBe(seen.length);
    expect((await fetch(`${t.url}/agents/by-slug/soon`)).status).toBe(200);
    expect((await fetch(`${t.url}/agents/by-slug/hidden-draft`)).status).toBe(404);
    expect((await call(admin, "GET", "/agents/by-slug/hidden-draft")).status).toBe(200);
  });
});

describe("pricing tiers and metrics", () => {
  it("tiers are public to read, admin to write; names are unique per agent; validation is strict", async () => {
    const agent = await registerAgent(admin, {});
    const tiers = await (await fetch(`${t.url}/agents/${agent.id}/pricing`)).json();
    expect(tiers.data.map((tier: { tierName: string }) => tier.tierName)).toEqual(["Free", "Pro"]);
    expect(tiers.data[1]).toMatchObject({
      price: "19.00",
      currency: "USD",
      isFree: false,
      recommended: true,
      stripePriceId: null,
    });
    expect(
      (await call(admin, "POST", `/agents/${agent.id}/pricing`, { tierName: "Free", isFree: true })).status,
    ).toBe(409);
    expect(
      (
        await call(admin, "POST", `/agents/${agent.id}/pricing`, {
          tierName: "X",
          isFree: true,
          price: "5.00",
        })
      ).status,
    ).toBe(400);
    expect(
      (await call(admin, "POST", `/agents/${agent.id}/pricing`, { tierName: "Y", isFree: false, price: "0" }))
        .status,
    ).toBe(400);
    expect((await call(admin, "DELETE", `/agents/${agent.id}/pricing/${agent.pro.id}`)).status).toBe(200);
    const after = await (await fetch(`${t.url}/agents/${agent.id}/pricing`)).json();
    expect(after.data.map((tier: { tierName: string }) => tier.tierName)).toEqual(["Free"]);
  });

  it("metric slug and kind are immutable; labels can change; duplicates are 409", async () => {
    const agent = await registerAgent(admin, { messages: ["rolling", 1, 2] });
    const metricId = agent.metrics.messages!.id;
    const relabel = await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, {
      displayName: "Questions",
      unit: "questions",
    });
    expect(relabel.body.data).toMatchObject({
      slug: "messages",
      kind: "rolling",
      displayName: "Questions",
      unit: "questions",
    });
    expect(
      (await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, { kind: "fixed" })).status,
    ).toBe(400);
    expect(
      (await call(admin, "POST", `/agents/${agent.id}/metrics/${metricId}`, { slug: "renamed" })).status,
    ).toBe(400);
    expect(
      (
        await call(admin, "POST", `/agents/${agent.id}/metrics`, {
          slug: "messages",
          displayName: "x",
          unit: "x",
          kind: "fixed",
        })
      ).status,
    ).toBe(409);
    const quotas = await (await fetch(`${t.url}/agents/${agent.id}/pricing/${agent.free.id}/quotas`)).json();
    expect(quotas.data).toEqual([{ tierId: agent.free.id, metricId, metricSlug: "messages", quotaLimit: 1 }]);
  });
});

describe("subscriptions and checkout", () => {
  it("a free tier is active at once; GET /me/subscriptions/:agentId returns it with its tier, 404 otherwise", async () => {
    const agent = await registerAgent(admin, {});
    const user = await agentUser(t, agent);
    expect((await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(404);
    const result = await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
      returnUrl: `https://${agent.slug}.example.com/welcome`,
    });
    expect(result.status).toBe(201);
    expect(result.body.data).toMatchObject({
      status: "active",
      returnUrl: `https://${agent.slug}.example.com/welcome`,
    });
    const sub = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(sub.body.data).toMatchObject({
      agentId: agent.id,
      tierId: agent.free.id,
      status: "active",
      tier: { tierName: "Free" },
    });
    expect(new Date(sub.body.data.currentPeriodEnd).getTime()).toBeGreaterThan(Date.now());
    expect((await call(user.browser, "GET", "/me/subscriptions")).body.data).toHaveLength(1);
    expect(
      (
        await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
          returnUrl: `https://${agent.slug}.example.com/`,
        })
      ).status,
    ).toBe(409);
  });

  it("returnUrl must be one of the agent's origins (or localhost in development): 422 with allowedOrigins", async () => {
    const agent = await registerAgent(admin, {});
    const user = await agentUser(t, agent);
    const bad = await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
      returnUrl: "https://evil.example.com/",
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error).toMatchObject({
      code: "UNPROCESSABLE_ENTITY",
      details: { reason: "INVALID_RETURN_URL" },
    });
    expect(bad.body.error!.details!.allowedOrigins).toContain(`https://${agent.slug}.example.com`);
    const local = await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
      returnUrl: "http://localhost:3001/after",
    });
    expect(local.status).toBe(201);
  });

  it("a paid tier without Stripe goes through the development checkout; a trial starts trialing", async () => {
    const agent = await registerAgent(admin, {}, { trialDays: 14 });
    const user = await agentUser(t, agent);
    const result = await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.pro.id}/checkout`, {
      returnUrl: `https://${agent.slug}.example.com/back`,
    });
    expect(result.body.data.status).toBe("redirect");
    expect(result.body.data.url).toContain(`${t.url}/dev-checkout?token=`);
    // Nothing is active until the user confirms.
    expect((await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`)).status).toBe(404);
    expect(await confirmDevCheckout(user.browser, result.body.data.url)).toBe(
      `https://${agent.slug}.example.com/back`,
    );
    const sub = await bearerCall(t.url, user.token, "GET", `/me/subscriptions/${agent.id}`);
    expect(sub.body.data).toMatchObject({ status: "trialing", tier: { tierName: "Pro" } });
    // Another user cannot use the token.
    const stranger = await signedInBrowser(t.url);
    const target = new URL(result.body.data.url);
    expect((await stranger.browser.fetch(`${target.pathname}${target.search}`)).status).toBe(403);
  });

  it("agentTiers in new ID tokens and installs in userinfo come from subscriptions", async () => {
    const agent = await registerAgent(admin, {});
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const { tokens } = await fullFlow(
      t.issuer,
      user.browser,
      { clientId: agent.clientId, redirectUri: agent.redirectUri },
      {
        scope: "openid marketplace:agentTiers marketplace:installs offline_access",
      },
    );
    expect(decodeJwt(tokens.id_token!).payload["marketplace:agentTiers"]).toEqual({ [agent.id]: "Free" });
    const info = await (
      await fetch(`${t.issuer}/oauth2/userinfo`, {
        headers: { authorization: `Bearer ${tokens.access_token}` },
      })
    ).json();
    expect(info["marketplace:installs"]).toEqual([agent.id]);
  });

  it("checkout needs a signed-in user and a valid body", async () => {
    const agent = await registerAgent(admin, {});
    const anonymous = await fetch(`${t.url}/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ returnUrl: `https://${agent.slug}.example.com/` }),
    });
    expect(anonymous.status).toBe(401);
    const user = await agentUser(t, agent);
    expect(
      (await call(user.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {})).status,
    ).toBe(400);
    expect(
      (
        await call(user.browser, "POST", `/agents/${agent.id}/pricing/${randomUUID()}/checkout`, {
          returnUrl: `https://${agent.slug}.example.com/`,
        })
      ).status,
    ).toBe(404);
  });
});
