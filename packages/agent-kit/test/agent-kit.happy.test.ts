import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { call, confirmDevCheckout } from "../../marketplace/test/support/billing.ts";
import {
  type AgentStack,
  agentCall,
  signInToAgent,
  startAgentStack,
  subscribeFree,
} from "./support/stack.ts";

let s: AgentStack;
beforeAll(async () => {
  s = await startAgentStack();
});
afterAll(() => s?.close());

describe("sign-in, session and the five integration points", () => {
  it("a signed-out visitor is sent to sign in (page) or gets 401 with a sign-in URL (API)", async () => {
    const page = await fetch(`${s.agentUrl}/`, { headers: { accept: "text/html" }, redirect: "manual" });
    expect(page.status).toBe(302);
    expect(page.headers.get("location")).toBe(`${s.agentUrl}/api/auth/sign-in/marketplace?returnTo=%2F`);
    const api = await fetch(`${s.agentUrl}/api/me/tier`);
    expect(api.status).toBe(401);
    expect(await api.json()).toMatchObject({
      error: "sign_in_required",
      signInUrl: expect.stringContaining("/api/auth/sign-in/marketplace"),
    });
  });

  it("after the marketplace login the agent has its own session; GET /me is the marketplace identity", async () => {
    const user = await signInToAgent(s);
    expect(user.done.status).toBe(303);
    expect(user.done.headers.get("location")).toBe("/welcome");
    expect(user.done.headers.get("referrer-policy")).toBe("no-referrer");
    expect([...user.browser.cookies.keys()]).toEqual(
      expect.arrayContaining(["marketplace.session_token", "agent.session_token"]),
    );
    const me = await agentCall(user.browser, `${s.agentUrl}/me`);
    expect(me.body).toEqual({
      id: user.userId,
      email: user.email,
      name: "Test User",
      marketplaceRole: "org_member",
    });
  });

  it("OAuth tokens are encrypted at rest", async () => {
    await signInToAgent(s);
    const rows = await s.db.query<{ accessToken: string; refreshToken: string }>(
      `SELECT "accessToken", "refreshToken" FROM "account"`,
    );
    for (const row of rows) {
      expect(row.accessToken).toMatch(/^(\$ba\$|[0-9a-f]{40,})/);
      expect(row.refreshToken).toMatch(/^(\$ba\$|[0-9a-f]{40,})/);
    }
  });

  it("unsubscribed: 402 from the agent; after subscribing the tier shows without signing in again", async () => {
    const user = await signInToAgent(s);
    const before = await agentCall(user.browser, `${s.agentUrl}/api/me/tier`);
    expect(before.status).toBe(402);
    expect(before.body).toEqual({
      error: "subscription_required",
      subscribe: true,
      upgradeUrl: `${s.t.url}/pricing/${s.agent.slug}`,
    });
    expect((await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" })).status).toBe(402);

    await subscribeFree(s, user.browser);
    const free = await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`);
    expect(free.body).toMatchObject({ tierName: "Free", status: "active" });

    const upgrade = await call(
      user.browser,
      "POST",
      `/agents/${s.agent.id}/pricing/${s.agent.proTierId}/checkout`,
      { returnUrl: `${s.agentUrl}/` },
    );
    await confirmDevCheckout(user.browser, upgrade.body.data.url);
    const pro = await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`);
    expect(pro.body).toMatchObject({ tierName: "Pro" });
  });

  it("chargeable actions consume until the cap, then 429 with upgradeUrl, resetsAt and remaining 0", async () => {
    const user = await signInToAgent(s);
    await subscribeFree(s, user.browser);
    for (let i = 4; i >= 0; i--) {
      const ok = await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" });
      expect(ok.body).toEqual({ answer: "42", remaining: i });
    }
    const capped = await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" });
    expect(capped.status).toBe(429);
    expect(capped.body).toMatchObject({
      error: "quota_exceeded",
      upgradeUrl: `${s.t.url}/pricing/${s.agent.slug}`,
      remaining: 0,
    });
    expect(new Date(capped.body.resetsAt).getTime()).toBeGreaterThan(Date.now());
  });

  it("features come from quotas; release works on fixed metrics, once per id", async () => {
    const user = await signInToAgent(s);
    await subscribeFree(s, user.browser);
    expect((await agentCall(user.browser, `${s.agentUrl}/api/voice`)).body).toEqual({ voice: false });
    await s.kit.client(user.agentUserId).consume("knowledge-bases", 1, { clientReqId: "create-kb-1" });
    for (let i = 0; i < 2; i++)
      expect((await agentCall(user.browser, `${s.agentUrl}/api/kb/kb-1`, { method: "DELETE" })).status).toBe(
        200,
      );
    expect((await s.kit.client(user.agentUserId).getUsage("knowledge-bases")).used).toBe(0);
  });

  it("B.35 sign-out destroys the local session, revokes the refresh token (RFC 7009) and ends the marketplace session (id_token_hint, post_logout_redirect_uri, state)", async () => {
    const user = await signInToAgent(s);
    const { refreshToken } = await s.kit.tokens.storedForSignOut(user.agentUserId);
    const out = await agentCall(user.browser, `${s.agentUrl}/api/auth/sign-out?marketplace=true`, {
      method: "POST",
      headers: { origin: s.agentUrl },
    });
    expect(out.body.signedOut).toBe(true);
    const end = new URL(out.body.endSessionUrl);
    expect(`${end.origin}${end.pathname}`).toBe(`${s.t.issuer}/oauth2/endsession`);
    expect(end.searchParams.get("post_logout_redirect_uri")).toBe(`${s.agentUrl}/`);
    expect(end.searchParams.get("id_token_hint")).toBeTruthy();
    expect(end.searchParams.get("state")).toBeTruthy();
    expect(user.browser.cookies.has("agent.session_token")).toBe(false);
    expect((await agentCall(user.browser, `${s.agentUrl}/me`)).status).toBe(401);
    // Destroyed, not just forgotten by the browser: no session row, no stored tokens.
    const rows = await s.db.query(`SELECT 1 FROM "session" WHERE "userId" = $1`, [user.agentUserId]);
    expect(rows).toHaveLength(0);
    expect(await s.kit.tokens.storedForSignOut(user.agentUserId)).toMatchObject({ refreshToken: null });
    // The revoked refresh token no longer works at the marketplace.
    const refresh = await fetch(`${s.t.issuer}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken!,
        client_id: s.agent.clientId,
      }),
    });
    expect(refresh.status).toBe(400);
    // Following the end-session URL signs the browser out of the marketplace and comes back with the state.
    const back = await user.browser.fetch(out.body.endSessionUrl);
    expect(back.status).toBe(302);
    expect(back.headers.get("location")).toBe(`${s.agentUrl}/?state=${end.searchParams.get("state")}`);
    const session = await user.browser.fetch(`${s.t.url}/api/auth/get-session`, {
      headers: { accept: "application/json" },
    });
    expect(await session.json()).toBeNull();
  });
});
