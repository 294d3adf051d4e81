import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../src/auth/bearer.ts";
import { user } from "../src/db/schema.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import {
  authorizeCode,
  type Browser,
  decodeJwt,
  fullFlow,
  signedInBrowser,
  type TokenResponse,
  tokenRequest,
} from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
let browser: Browser;

beforeAll(async () => {
  t = await startTestMarketplace();
  client = await t.createClient();
  ({ browser } = await signedInBrowser(t.url));
});
afterAll(() => t?.close());

const redeem = (code: string, verifier: string, over: Record<string, string | undefined> = {}) =>
  tokenRequest(t.issuer, {
    grant_type: "authorization_code",
    code,
    redirect_uri: client.redirectUri,
    client_id: client.clientId,
    code_verifier: verifier,
    ...over,
  });

const refresh = (refreshToken: string, over: Record<string, string | undefined> = {}) =>
  tokenRequest(t.issuer, {
    grant_type: "refresh_token",
    refresh_token: refreshToken,
    client_id: client.clientId,
    ...over,
  });

const userinfo = (accessToken: string) =>
  fetch(`${t.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${accessToken}` } });

async function expectOAuthError(response: Response, error: string, status = 400) {
  const body = (await response.json()) as TokenResponse;
  expect({ status: response.status, error: body.error }).toEqual({ status, error });
  return body;
}

describe("code redemption", () => {
  it("A.20 code reuse is invalid_grant and revokes every token issued from that code", async () => {
    const auth = await authorizeCode(t.issuer, browser, client);
    const first = await redeem(auth.code!, auth.pkce.verifier);
    const tokens = (await first.json()) as TokenResponse;
    expect(first.status).toBe(200);
    expect((await userinfo(tokens.access_token)).status).toBe(200);

    await expectOAuthError(await redeem(auth.code!, auth.pkce.verifier), "invalid_grant");
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    await expectOAuthError(await refresh(tokens.refresh_token!), "invalid_grant");
  });

  it("A.20 a code replayed 30 s later is still invalid_grant", { timeout: 60_000 }, async () => {
    const auth = await authorizeCode(t.issuer, browser, client);
    expect((await redeem(auth.code!, auth.pkce.verifier)).status).toBe(200);
    await sleep(30_000);
    await expectOAuthError(await redeem(auth.code!, auth.pkce.verifier), "invalid_grant");
  });

  it("A.21 two concurrent redemptions of one code: exactly one 200, never a 500", async () => {
    // The second request starts 0–9 ms later, so it also lands while the first is mid-issuance.
    for (let round = 0; round < 10; round++) {
      const auth = await authorizeCode(t.issuer, browser, client);
      const responses = await Promise.all([
        redeem(auth.code!, auth.pkce.verifier),
        sleep(round).then(() => redeem(auth.code!, auth.pkce.verifier)),
      ]);
      const statuses = responses.map((r) => r.status).sort();
      expect(statuses).toEqual([200, 400]);
    }
  });

  it("A.22 wrong, missing or malformed code_verifier is invalid_grant", async () => {
    for (const verifier of ["x".repeat(43), undefined, "not valid!"]) {
      const auth = await authorizeCode(t.issuer, browser, client);
      await expectOAuthError(
        await redeem(auth.code!, auth.pkce.verifier, { code_verifier: verifier }),
        "invalid_grant",
      );
    }
  });

  it("A.23 a code without a stored challenge cannot exist: authorize refuses requests without one", async () => {
    const auth = await authorizeCode(t.issuer, browser, client, {
      code_challenge: undefined,
      code_challenge_method: undefined,
    });
    expect(auth.code).toBeNull();
    expect(auth.url.searchParams.get("error")).toBe("invalid_request");
  });

  it("A.24 redirect_uri missing or different at the token endpoint is invalid_grant", async () => {
    for (const redirectUri of [undefined, `${client.redirectUri}/other`]) {
      const auth = await authorizeCode(t.issuer, browser, client);
      await expectOAuthError(
        await redeem(auth.code!, auth.pkce.verifier, { redirect_uri: redirectUri }),
        "invalid_grant",
      );
    }
  });

  it("A.25 client A's code redeemed by client B is invalid_grant", async () => {
    const other = await t.createClient();
    const auth = await authorizeCode(t.issuer, browser, client);
    const response = await redeem(auth.code!, auth.pkce.verifier, {
      client_id: other.clientId,
      redirect_uri: other.redirectUri,
    });
    await expectOAuthError(response, "invalid_grant");
  });

  it("A.27 unsupported grant_type and JSON bodies are refused", async () => {
    await expectOAuthError(
      await tokenRequest(t.issuer, { grant_type: "password", client_id: client.clientId }),
      "unsupported_grant_type",
    );
    const auth = await authorizeCode(t.issuer, browser, client);
    const json = await fetch(`${t.issuer}/oauth2/token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        grant_type: "authorization_code",
        code: auth.code,
        redirect_uri: client.redirectUri,
        client_id: client.clientId,
        code_verifier: auth.pkce.verifier,
      }),
    });
    expect(json.status).toBe(400);
    expect(((await json.json()) as TokenResponse).error).toBe("invalid_request");
  });

  it("A.28 an account deleted between authorize and token is invalid_grant", async () => {
    const doomed = await signedInBrowser(t.url);
    const auth = await authorizeCode(t.issuer, doomed.browser, client);
    await t.mp.database.db.delete(user).where(eq(user.id, doomed.userId));
    await expectOAuthError(await redeem(auth.code!, auth.pkce.verifier), "invalid_grant");
  });

  it("A.35 tokens carry at least 128 bits of entropy and are stored only as hashes", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    for (const token of [tokens.access_token, tokens.refresh_token!]) {
      // 32 characters of [A-Za-z]: 32·log2(52) ≈ 182 bits.
      expect(token.length * Math.log2(52)).toBeGreaterThanOrEqual(128);
    }
    const { rows } = await t.mp.database.sql.query<{ token: string }>(
      `SELECT token FROM "oauthAccessToken" UNION ALL SELECT token FROM "oauthRefreshToken"`,
    );
    const stored = rows.map((r) => r.token);
    expect(stored).not.toContain(tokens.access_token);
    expect(stored).not.toContain(tokens.refresh_token);
    expect(stored).toContain(hashToken(tokens.access_token));
    expect(stored).toContain(hashToken(tokens.refresh_token!));
  });
});

describe("refresh tokens", () => {
  it("are issued only with offline_access", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client, { scope: "openid profile email" });
    expect(tokens.refresh_token).toBeUndefined();
  });

  it("A.29 client 2's refresh token used by client 1 is invalid_grant", async () => {
    const other = await t.createClient();
    const { tokens } = await fullFlow(t.issuer, browser, other);
    await expectOAuthError(await refresh(tokens.refresh_token!), "invalid_grant");
  });

  it("A.30 refresh returns a new refresh token with the same scope; narrowing works, widening is invalid_scope", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client, { scope: "openid email offline_access" });
    const same = (await (await refresh(tokens.refresh_token!)).json()) as TokenResponse;
    expect(same.refresh_token).toBeTruthy();
    expect(same.refresh_token).not.toBe(tokens.refresh_token);
    expect(same.scope?.split(" ").sort()).toEqual(["email", "offline_access", "openid"]);

    const narrow = (await (
      await refresh(same.refresh_token!, { scope: "openid offline_access" })
    ).json()) as TokenResponse;
    expect(narrow.scope?.split(" ").sort()).toEqual(["offline_access", "openid"]);

    await expectOAuthError(
      await refresh(narrow.refresh_token!, { scope: "openid email profile offline_access" }),
      "invalid_scope",
    );
  });

  it("A.31 a rotated-out refresh token is invalid_grant and revokes the whole family", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const next = (await (await refresh(tokens.refresh_token!)).json()) as TokenResponse;
    expect(next.refresh_token).toBeTruthy();
    await expectOAuthError(await refresh(tokens.refresh_token!), "invalid_grant");
    await expectOAuthError(await refresh(next.refresh_token!), "invalid_grant");
    expect((await userinfo(next.access_token)).status).toBe(401);
  });

  it("C: two concurrent refreshes with one token (strict): exactly one success, never a 500, chain invalidated, user still signed in", async () => {
    for (let round = 0; round < 5; round++) {
      const { tokens } = await fullFlow(t.issuer, browser, client);
      const responses = await Promise.all([
        refresh(tokens.refresh_token!),
        sleep(round).then(() => refresh(tokens.refresh_token!)),
      ]);
      expect(responses.map((r) => r.status).sort()).toEqual([200, 400]);
      // The later request presented a rotated-out token: reuse, so the winner's successor is gone too.
      const winner = (await responses.find((r) => r.status === 200)!.json()) as TokenResponse;
      await expectOAuthError(await refresh(winner.refresh_token!), "invalid_grant");
      expect((await userinfo(winner.access_token)).status).toBe(401);
    }
    // The marketplace session is untouched: the user signs in to the agent again without a password.
    const session = await browser.fetch("/api/auth/get-session", { headers: { accept: "application/json" } });
    expect(((await session.json()) as { user?: { id: string } } | null)?.user?.id).toBeTruthy();
  });

  it("F.9b the refresh grant refuses a banned user, on every refresh", async () => {
    const banned = await signedInBrowser(t.url);
    const { tokens } = await fullFlow(t.issuer, banned.browser, client);
    const next = (await (await refresh(tokens.refresh_token!)).json()) as TokenResponse;
    expect(next.refresh_token).toBeTruthy();
    await t.mp.database.db.update(user).set({ banned: true }).where(eq(user.id, banned.userId));
    await expectOAuthError(await refresh(next.refresh_token!), "invalid_grant");
    await expectOAuthError(await refresh(next.refresh_token!), "invalid_grant");
    // A ban that has run out no longer blocks (the admin plugin's banExpires).
    await t.mp.database.sql.query(
      `UPDATE "user" SET "banExpires" = now() - interval '1 second' WHERE id = $1`,
      [banned.userId],
    );
    expect((await refresh(next.refresh_token!)).status).toBe(200);
  });

  it("F.9c the refresh grant refuses a deleted user", async () => {
    const doomed = await signedInBrowser(t.url);
    const { tokens } = await fullFlow(t.issuer, doomed.browser, client);
    await t.mp.database.db.delete(user).where(eq(user.id, doomed.userId));
    await expectOAuthError(await refresh(tokens.refresh_token!), "invalid_grant");
  });

  it("A.33 a refreshed ID token keeps iss, sub, aud, azp and auth_time, with a new iat and no nonce", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client, { nonce: "first-nonce" });
    const original = decodeJwt(tokens.id_token!).payload;
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const refreshed = (await (await refresh(tokens.refresh_token!)).json()) as TokenResponse;
    const claims = decodeJwt(refreshed.id_token!).payload;
    for (const name of ["iss", "sub", "aud", "azp", "auth_time"])
      expect(claims[name]).toEqual(original[name]);
    expect(claims.iat as number).toBeGreaterThan(original.iat as number);
    expect(claims.nonce).toBeUndefined();
  });
});

describe("short-lived codes and tokens", () => {
  let s: TestMarketplace;
  let shortClient: { clientId: string; redirectUri: string };
  let shortBrowser: Browser;
  beforeAll(async () => {
    s = await startTestMarketplace({ AUTH_CODE_TTL_SECONDS: "1", REFRESH_TOKEN_TTL_SECONDS: "1" });
    shortClient = await s.createClient();
    ({ browser: shortBrowser } = await signedInBrowser(s.url));
  });
  afterAll(() => s?.close());

  it("A.26 an expired code is invalid_grant", async () => {
    const auth = await authorizeCode(s.issuer, shortBrowser, shortClient);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const response = await tokenRequest(s.issuer, {
      grant_type: "authorization_code",
      code: auth.code!,
      redirect_uri: shortClient.redirectUri,
      client_id: shortClient.clientId,
      code_verifier: auth.pkce.verifier,
    });
    await expectOAuthError(response, "invalid_grant");
  });

  it("A.34 an expired refresh token is invalid_grant", async () => {
    const { tokens } = await fullFlow(s.issuer, shortBrowser, shortClient);
    await new Promise((resolve) => setTimeout(resolve, 2_100));
    const response = await tokenRequest(s.issuer, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token!,
      client_id: shortClient.clientId,
    });
    await expectOAuthError(response, "invalid_grant");
  });
});

describe("optional refresh grace window (off by default)", () => {
  let g: TestMarketplace;
  let graceClient: { clientId: string; redirectUri: string };
  let graceBrowser: Browser;
  beforeAll(async () => {
    g = await startTestMarketplace({ REFRESH_TOKEN_REUSE_GRACE_SECONDS: "10" });
    graceClient = await g.createClient();
    ({ browser: graceBrowser } = await signedInBrowser(g.url));
  });
  afterAll(() => g?.close());

  it("A.32 two concurrent refreshes inside the grace window both get the same next refresh token", async () => {
    const { tokens } = await fullFlow(g.issuer, graceBrowser, graceClient);
    const send = () =>
      tokenRequest(g.issuer, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
        client_id: graceClient.clientId,
      });
    const [a, b] = await Promise.all([send(), send()]);
    expect([a.status, b.status]).toEqual([200, 200]);
    const [ja, jb] = (await Promise.all([a.json(), b.json()])) as TokenResponse[];
    expect(ja!.refresh_token).toBe(jb!.refresh_token);
    // The successor is live; presenting it rotates normally.
    const after = await tokenRequest(g.issuer, {
      grant_type: "refresh_token",
      refresh_token: ja!.refresh_token!,
      client_id: graceClient.clientId,
    });
    expect(after.status).toBe(200);
  });
});
