import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignInRequiredError } from "../src/errors.ts";
import { AgentKit } from "../src/kit.ts";
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

const tokenRequests = (stack: AgentStack) =>
  stack.t.logs.filter((l) => l.includes('"path":"/api/auth/oauth2/token"')).length;

async function subscribedUser(stack: AgentStack) {
  const user = await signInToAgent(stack);
  await subscribeFree(stack, user.browser);
  return user;
}

const expire = (stack: AgentStack, agentUserId: string) =>
  stack.db.query(
    `UPDATE "account" SET "accessTokenExpiresAt" = now() - interval '1 hour' WHERE "userId" = $1`,
    [agentUserId],
  );

describe("§C one refresh per grant at a time", () => {
  it("B.27 20 parallel requests with an expired access token: exactly one token request, all 20 succeed", async () => {
    const user = await subscribedUser(s);
    await expire(s, user.agentUserId);
    const before = tokenRequests(s);
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`)),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(tokenRequests(s) - before).toBe(1);
    // And the user stays signed in: the rotated refresh token is the one stored, and it still refreshes.
    expect((await agentCall(user.browser, `${s.agentUrl}/me`)).status).toBe(200);
    await s.kit.tokens.getAccessToken(user.agentUserId, { forceRefresh: true });
    expect(tokenRequests(s) - before).toBe(2);
    expect((await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`)).status).toBe(200);
  });

  it("the same with two agent processes sharing one database (advisory lock, re-read after taking it)", async () => {
    const user = await subscribedUser(s);
    // On PostgreSQL the second kit gets its own pool, as a second process would.
    const db2 = await s.db.second();
    const { issuer: _issuer, internalUrl: _internal, fetch: _fetch, ...options } = s.kit.options;
    const kit2 = await AgentKit.create({ ...options, storage: db2.storage });
    try {
      await expire(s, user.agentUserId);
      const before = tokenRequests(s);
      const results = await Promise.all([
        ...Array.from({ length: 10 }, () => s.kit.client(user.agentUserId).getTier({ refresh: true })),
        ...Array.from({ length: 10 }, () => kit2.client(user.agentUserId).getTier({ refresh: true })),
      ]);
      expect(results.every((r) => r.tier.tierName === "Free")).toBe(true);
      expect(tokenRequests(s) - before).toBe(1);
    } finally {
      await db2.close();
    }
  });

  it("B.30 a marketplace 401 triggers one refresh, then the call succeeds", async () => {
    const user = await subscribedUser(s);
    const access = await s.kit.tokens.getAccessToken(user.agentUserId);
    await fetch(`${s.t.issuer}/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token: access, client_id: s.agent.clientId }),
    });
    const before = tokenRequests(s);
    expect((await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`)).status).toBe(200);
    expect(tokenRequests(s) - before).toBe(1);
  });

  it("B.28/B.29 a lost refresh reply under strict rotation: invalid_grant clears the tokens and asks for sign-in, no retry loop", async () => {
    const user = await subscribedUser(s);
    // The process "crashed" after the marketplace rotated the token but before the agent stored the result.
    const { refreshToken } = await s.kit.tokens.storedForSignOut(user.agentUserId);
    const lost = await fetch(`${s.t.issuer}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken!,
        client_id: s.agent.clientId,
      }),
    });
    expect(lost.status).toBe(200);
    await expire(s, user.agentUserId);
    const before = tokenRequests(s);
    await expect(s.kit.tokens.getAccessToken(user.agentUserId)).rejects.toBeInstanceOf(SignInRequiredError);
    expect(tokenRequests(s) - before).toBe(1);
    const response = await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`);
    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      error: "sign_in_required",
      signInUrl: expect.stringContaining("returnTo"),
    });
    expect(tokenRequests(s) - before).toBe(1);
    expect((await s.kit.tokens.storedForSignOut(user.agentUserId)).refreshToken).toBeNull();
  });
});

describe("B.28 with the marketplace's optional grace window", () => {
  let g: AgentStack;
  beforeAll(async () => {
    g = await startAgentStack({ marketplaceEnv: { REFRESH_TOKEN_REUSE_GRACE_SECONDS: "30" } });
  });
  afterAll(() => g?.close());

  it("a retry with the old refresh token inside the window gets the same successor, and the session survives", async () => {
    const user = await subscribedUser(g);
    const { refreshToken } = await g.kit.tokens.storedForSignOut(user.agentUserId);
    await fetch(`${g.t.issuer}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({
        grant_type: "refresh_token",
        refresh_token: refreshToken!,
        client_id: g.agent.clientId,
      }),
    });
    await expire(g, user.agentUserId);
    await expect(g.kit.tokens.getAccessToken(user.agentUserId)).resolves.toEqual(expect.any(String));
    expect((await agentCall(user.browser, `${g.agentUrl}/api/me/tier?refresh=true`)).status).toBe(200);
  });
});
