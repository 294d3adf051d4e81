import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SignInRequiredError, SubscriptionRequiredError } from "../src/errors.ts";
import { startRelyingParty } from "./support/relying-party.ts";

type RelyingParty = Awaited<ReturnType<typeof startRelyingParty>>;

let rp: RelyingParty;
beforeAll(async () => {
  rp = await startRelyingParty();
});
afterAll(() => rp?.close());
beforeEach(() => {
  rp.provider.behaviour = {};
});

/** Signs a fresh browser in; returns it with the agent's user id for the hostile provider's one subject. */
async function signIn(party = rp) {
  const { browser, callback } = await party.signIn();
  const rows = await party.db.query<{ userId: string }>(
    `SELECT "userId" FROM "account" WHERE "accountId" = 'hostile-user-1'`,
  );
  return { browser, callback, userId: rows[0]?.userId, signedIn: browser.cookies.has("agent.session_token") };
}

/** A refresh as the marketplace's 401 triggers it (B.30): the current access token is no longer good. */
const refresh = (userId: string) => rp.kit.tokens.getAccessToken(userId, { forceRefresh: true });

const expiresInSeconds = async (userId: string) => {
  const rows = await rp.db.query<{ at: string }>(
    `SELECT "accessTokenExpiresAt" AS at FROM "account" WHERE "userId" = $1`,
    [userId],
  );
  return rows[0]?.at ? (new Date(rows[0].at).getTime() - Date.now()) / 1000 : null;
};

describe("§B relying-party token handling", () => {
  it("B.24 a token response with a lowercase bearer, no scope and no expires_in is accepted; expiry falls back to an hour", async () => {
    rp.provider.behaviour = {
      tokenResponse: (body) => {
        body.token_type = "bearer";
        delete body.scope;
        delete body.expires_in;
      },
    };
    const { signedIn, userId } = await signIn();
    expect(signedIn).toBe(true);
    expect(await expiresInSeconds(userId!)).toBeGreaterThan(3_500);
    expect(await expiresInSeconds(userId!)).toBeLessThanOrEqual(3_600);
    // The fallback makes the token usable: no refresh on first use.
    const before = rp.provider.calls.token;
    const token = await rp.kit.tokens.getAccessToken(userId!);
    expect(rp.provider.calls.token).toBe(before);
    // And the same for a refresh answer without expires_in.
    const refreshed = await refresh(userId!);
    expect(refreshed).not.toBe(token);
    expect(rp.provider.calls.token).toBe(before + 1);
    expect(await expiresInSeconds(userId!)).toBeGreaterThan(3_500);
    // The token goes out as `Bearer` whatever case the provider used.
    await expect(rp.kit.client(userId!).getSubscription()).rejects.toBeInstanceOf(SubscriptionRequiredError);
    expect(rp.provider.seen.at(-1)!.headers.authorization).toBe(`Bearer ${refreshed}`);
  });

  it("B.25 a refreshed ID token for another subject or from another issuer is rejected: tokens cleared, sign in again", async () => {
    for (const refreshClaims of [{ sub: "someone-else" }, { iss: "https://evil.example.com/api/auth" }]) {
      const { browser, userId } = await signIn();
      rp.provider.behaviour = { refreshClaims };
      await expect(refresh(userId!)).rejects.toBeInstanceOf(SignInRequiredError);
      expect((await rp.kit.tokens.storedForSignOut(userId!)).refreshToken).toBeNull();
      const api = await browser.fetch("/api/voice", { headers: { accept: "application/json" } });
      expect(api.status).toBe(401);
      expect(await api.json()).toMatchObject({ error: "sign_in_required" });
      rp.provider.behaviour = {};
    }
  });

  it("B.26 a refresh stores the new refresh token in place of the old one, which is never presented again", async () => {
    const { userId } = await signIn();
    const first = (await rp.kit.tokens.storedForSignOut(userId!)).refreshToken!;
    expect(rp.provider.liveRefreshTokens.has(first)).toBe(true);
    const presented = rp.provider.presentedRefreshTokens.length;
    await refresh(userId!);
    const second = (await rp.kit.tokens.storedForSignOut(userId!)).refreshToken!;
    expect(second).not.toBe(first);
    expect(rp.provider.liveRefreshTokens.has(second)).toBe(true);
    await refresh(userId!);
    expect(rp.provider.presentedRefreshTokens.slice(presented)).toEqual([first, second]);
    // Stored encrypted, never in clear.
    const rows = await rp.db.query<{ refreshToken: string }>(
      `SELECT "refreshToken" FROM "account" WHERE "userId" = $1`,
      [userId],
    );
    expect(rows[0]!.refreshToken).not.toContain(second);
    // A refresh answer without a new refresh token keeps the current one (no rotation), never drops it.
    const current = (await rp.kit.tokens.storedForSignOut(userId!)).refreshToken;
    rp.provider.behaviour = { noRefreshRotation: true };
    await refresh(userId!);
    expect((await rp.kit.tokens.storedForSignOut(userId!)).refreshToken).toBe(current);
  });

  it("B.31 the access token travels only in the Authorization header (userinfo and every marketplace call)", async () => {
    const seenBefore = rp.provider.seen.length;
    const { userId } = await signIn();
    const client = rp.kit.client(userId!);
    await client.getSubscription().catch(() => undefined);
    await client.getUsage().catch(() => undefined);
    await client.consume("messages", 1, { metadata: { note: "x" } }).catch(() => undefined);
    await client.release("knowledge-bases", 1, { clientReqId: "r-1" }).catch(() => undefined);
    const token = await rp.kit.tokens.getAccessToken(userId!);
    const seen = rp.provider.seen.slice(seenBefore);
    expect(seen.map((r) => r.url.split("?")[0])).toEqual(
      expect.arrayContaining([
        "/api/auth/userinfo",
        "/me/subscriptions/agent-1",
        "/me/agents/agent-1/usage",
        "/me/agents/agent-1/usage/messages/consume",
        "/me/agents/agent-1/usage/knowledge-bases/release",
      ]),
    );
    for (const request of seen.slice(1)) {
      expect(request.headers.authorization, request.url).toBe(`Bearer ${token}`);
      expect(request.url).not.toContain(token);
      expect(request.body).not.toContain(token);
      expect(request.headers.cookie).toBeUndefined();
    }
    expect(seen[0]!.headers.authorization).toMatch(/^Bearer [0-9a-f]{32}$/);
    expect(seen[0]!.url).toBe("/api/auth/userinfo");
  });
});

describe("B.20 max_age", () => {
  let strict: RelyingParty;
  beforeAll(async () => {
    strict = await startRelyingParty({ kit: { maxAge: 300 } });
  });
  afterAll(() => strict?.close());

  const attempt = async (authTime: number | undefined) => {
    strict.provider.behaviour = { claims: { auth_time: authTime } };
    const { browser, callback } = await strict.signIn();
    return { status: callback.status, signedIn: browser.cookies.has("agent.session_token") };
  };

  it("B.20 max_age is sent, and the ID token's auth_time must be present and no older than it", async () => {
    const now = Math.floor(Date.now() / 1000);
    expect(await attempt(now - 10)).toEqual({ status: 303, signedIn: true });
    expect(strict.provider.authorizeRequests.at(-1)!.get("max_age")).toBe("300");
    expect(await attempt(now - 3_600)).toEqual({ status: 400, signedIn: false });
    expect(await attempt(undefined)).toEqual({ status: 400, signedIn: false });
    // Without max_age configured nothing is sent and auth_time is not required.
    rp.provider.behaviour = { claims: { auth_time: undefined } };
    const { callback } = await rp.signIn();
    expect(callback.status).toBe(303);
    expect(rp.provider.authorizeRequests.at(-1)!.has("max_age")).toBe(false);
  });
});
