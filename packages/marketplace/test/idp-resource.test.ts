import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { type Browser, decodeJwt, fullFlow, signedInBrowser, tokenRequest } from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
let resourceServer: { clientId: string; clientSecret?: string; redirectUri: string };
let browser: Browser;
let email: string;

beforeAll(async () => {
  t = await startTestMarketplace();
  client = await t.createClient();
  resourceServer = await t.createClient({ confidential: true });
  ({ browser, email } = await signedInBrowser(t.url, { name: "Grace Hopper" }));
});
afterAll(() => t?.close());

const form = (values: Record<string, string>) => new URLSearchParams(values);
const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString("base64")}`;

const revoke = (values: Record<string, string>) =>
  fetch(`${t.issuer}/oauth2/revoke`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: form(values),
  });

const introspect = (token: string, authorization?: string) =>
  fetch(`${t.issuer}/oauth2/introspect`, {
    method: "POST",
    headers: {
      "content-type": "application/x-www-form-urlencoded",
      ...(authorization ? { authorization } : {}),
    },
    body: form({ token }),
  });

const userinfo = (token: string) =>
  fetch(`${t.issuer}/oauth2/userinfo`, { headers: { authorization: `Bearer ${token}` } });

describe("userinfo", () => {
  it("A.36 answers GET with header, POST with header and POST with a form token; sub matches the ID token", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const sub = decodeJwt(tokens.id_token!).payload.sub;
    const responses = [
      await userinfo(tokens.access_token),
      await fetch(`${t.issuer}/oauth2/userinfo`, {
        method: "POST",
        headers: { authorization: `Bearer ${tokens.access_token}` },
      }),
      await fetch(`${t.issuer}/oauth2/userinfo`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: form({ access_token: tokens.access_token }),
      }),
    ];
    for (const response of responses) {
      expect(response.status).toBe(200);
      const claims = await response.json();
      expect(claims.sub).toBe(sub);
      expect(claims.email).toBe(email);
      expect(claims.name).toBe("Grace Hopper");
      expect(claims["marketplace:role"]).toBe("org_member");
    }
  });

  it("marketplace:installs appears in userinfo only, and only when granted", async () => {
    const withInstalls = await fullFlow(t.issuer, browser, client, { scope: "openid marketplace:installs" });
    expect((await (await userinfo(withInstalls.tokens.access_token)).json())["marketplace:installs"]).toEqual(
      [],
    );
    expect(decodeJwt(withInstalls.tokens.id_token!).payload["marketplace:installs"]).toBeUndefined();
  });

  it("A.37 missing, invalid, revoked or query-string tokens get 401 with WWW-Authenticate invalid_token", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    await revoke({ token: tokens.access_token, client_id: client.clientId });
    const cases = [
      await fetch(`${t.issuer}/oauth2/userinfo`),
      await userinfo("garbage-token-value"),
      await userinfo(tokens.access_token),
      await fetch(
        `${t.issuer}/oauth2/userinfo?access_token=${encodeURIComponent((await fullFlow(t.issuer, browser, client)).tokens.access_token)}`,
      ),
    ];
    for (const response of cases) {
      expect(response.status).toBe(401);
      const challenge = response.headers.get("www-authenticate") ?? "";
      expect(challenge).toMatch(/^Bearer/);
    }
    for (const response of cases.slice(1, 3))
      expect(response.headers.get("www-authenticate")).toContain('error="invalid_token"');
  });

  it("A.38 a token without the openid scope gets 403 insufficient_scope; claims follow the granted scopes", async () => {
    const noOpenid = await fullFlow(t.issuer, browser, client, {
      scope: "email offline_access",
      nonce: undefined,
    });
    const response = await userinfo(noOpenid.tokens.access_token);
    expect(response.status).toBe(403);
    expect(response.headers.get("www-authenticate") ?? (await response.clone().text())).toContain(
      "insufficient_scope",
    );

    const emailOnly = await fullFlow(t.issuer, browser, client, { scope: "openid email" });
    const claims = await (await userinfo(emailOnly.tokens.access_token)).json();
    expect(claims.email).toBe(email);
    expect(claims.name).toBeUndefined();
    expect(claims["marketplace:role"]).toBeUndefined();
    expect(claims["marketplace:agentTiers"]).toBeUndefined();
  });
});

describe("revocation (RFC 7009)", () => {
  it("A.39 revoking a refresh token answers 200 and kills the grant's access tokens", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const response = await revoke({
      token: tokens.refresh_token!,
      token_type_hint: "refresh_token",
      client_id: client.clientId,
    });
    expect(response.status).toBe(200);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    const again = await tokenRequest(t.issuer, {
      grant_type: "refresh_token",
      refresh_token: tokens.refresh_token!,
      client_id: client.clientId,
    });
    expect(again.status).toBe(400);
  });

  it("A.39 a wrong token_type_hint still revokes; a garbage token answers 200", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    expect(
      (
        await revoke({
          token: tokens.access_token,
          token_type_hint: "refresh_token",
          client_id: client.clientId,
        })
      ).status,
    ).toBe(200);
    expect((await userinfo(tokens.access_token)).status).toBe(401);
    expect((await revoke({ token: "not-a-real-token", client_id: client.clientId })).status).toBe(200);
  });

  it("A.40 another client's token is not revoked (silent 200); a missing token is invalid_request", async () => {
    const other = await t.createClient();
    const { tokens } = await fullFlow(t.issuer, browser, other);
    expect((await revoke({ token: tokens.access_token, client_id: client.clientId })).status).toBe(200);
    expect((await userinfo(tokens.access_token)).status).toBe(200);
    const missing = await revoke({ client_id: client.clientId });
    expect(missing.status).toBe(400);
    expect((await missing.json()).error).toBe("invalid_request");
  });

  it("revocation takes effect on the marketplace API at once (bearer cache honours it)", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const me = () => fetch(`${t.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await me()).status).toBe(200);
    await revoke({ token: tokens.access_token, client_id: client.clientId });
    expect((await me()).status).toBe(401);
  });
});

describe("introspection (RFC 7662)", () => {
  it("A.41 introspection without client credentials is 401", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    expect((await introspect(tokens.access_token)).status).toBe(401);
    expect(
      (await introspect(tokens.access_token, basic(resourceServer.clientId, "wrong-secret"))).status,
    ).toBe(401);
  });

  it("A.42 a valid token is active with scope, client_id, sub and exp; anything else is {active:false}; no-store", async () => {
    // The provider lets a client introspect the tokens issued to it, so the
    // resource server here is a confidential client that ran the flow itself.
    const auth = basic(resourceServer.clientId, resourceServer.clientSecret!);
    const { tokens } = await fullFlow(t.issuer, browser, resourceServer, {}, { authorization: auth });
    const response = await introspect(tokens.access_token, auth);
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toContain("no-store");
    const body = await response.json();
    expect(body).toMatchObject({
      active: true,
      client_id: resourceServer.clientId,
      sub: decodeJwt(tokens.id_token!).payload.sub,
    });
    expect(body.scope.split(" ")).toContain("openid");
    expect(body.exp).toBeGreaterThan(Date.now() / 1000);

    for (const token of ["garbage", tokens.id_token!]) {
      const inactive = await introspect(token, auth);
      expect(inactive.status).toBe(200);
      expect(await inactive.json()).toEqual({ active: false });
    }
    const revoked = await fetch(`${t.issuer}/oauth2/revoke`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", authorization: auth },
      body: form({ token: tokens.access_token }),
    });
    expect(revoked.status).toBe(200);
    expect(await (await introspect(tokens.access_token, auth)).json()).toEqual({ active: false });
  });
});
