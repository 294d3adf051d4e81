import { createLocalJWKSet, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { decodeJwt, fullFlow, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
beforeAll(async () => {
  t = await startTestMarketplace();
});
afterAll(() => t?.close());

describe("discovery and keys", () => {
  it("A.1 discovery + RFC 8414 metadata: exact issuer, S256 only, iss response parameter", async () => {
    const oidc = await (await fetch(`${t.issuer}/.well-known/openid-configuration`)).json();
    const rfc8414Under = await (await fetch(`${t.issuer}/.well-known/oauth-authorization-server`)).json();
    const rfc8414Root = await (
      await fetch(`${t.url}/.well-known/oauth-authorization-server/api/auth`)
    ).json();
    for (const metadata of [oidc, rfc8414Under, rfc8414Root]) {
      expect(metadata.issuer).toBe(t.issuer);
      expect(metadata.code_challenge_methods_supported).toEqual(["S256"]);
      expect(metadata.authorization_response_iss_parameter_supported).toBe(true);
      expect(metadata.token_endpoint_auth_methods_supported).toContain("none");
      expect(metadata.end_session_endpoint).toBe(`${t.issuer}/oauth2/endsession`);
    }
    expect(oidc.id_token_signing_alg_values_supported).toEqual(["EdDSA"]);
    expect(oidc.jwks_uri).toBe(`${t.issuer}/jwks`);
    expect(oidc.userinfo_endpoint).toBe(`${t.issuer}/oauth2/userinfo`);
    expect(oidc.scopes_supported).toEqual(
      expect.arrayContaining([
        "marketplace:role",
        "marketplace:agentTiers",
        "marketplace:installs",
        "offline_access",
      ]),
    );
  });

  it("serves RP-initiated logout only at the contract path", async () => {
    expect((await fetch(`${t.issuer}/oauth2/end-session`)).status).toBe(404);
    expect((await fetch(`${t.issuer}/oauth2/endsession`)).status).not.toBe(404);
  });

  it("A.2 JWKS publishes public Ed25519 signing keys only, each with a unique kid", async () => {
    const { keys } = await (await fetch(`${t.issuer}/jwks`)).json();
    expect(keys.length).toBeGreaterThan(0);
    const kids = keys.map((k: { kid: string }) => k.kid);
    expect(new Set(kids).size).toBe(kids.length);
    for (const key of keys) {
      expect(key).not.toHaveProperty("d");
      expect(key).toMatchObject({ kty: "OKP", crv: "Ed25519", alg: "EdDSA", use: "sig" });
    }
  });
});

describe("key rotation", () => {
  let r: TestMarketplace;
  beforeAll(async () => {
    r = await startTestMarketplace({
      JWKS_ROTATION_INTERVAL_SECONDS: "2",
      JWKS_GRACE_PERIOD_SECONDS: "600",
      ID_TOKEN_TTL_SECONDS: "600",
    });
  });
  afterAll(() => r?.close());

  it("A.3 after rotation the JWKS shows new and old keys, new ID tokens use the new kid, old ones still verify", async () => {
    const client = await r.createClient();
    const { browser } = await signedInBrowser(r.url);
    const first = await fullFlow(r.issuer, browser, client);
    const oldKid = decodeJwt(first.tokens.id_token!).header.kid;

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const second = await fullFlow(r.issuer, browser, client);
    const newKid = decodeJwt(second.tokens.id_token!).header.kid;
    expect(newKid).not.toBe(oldKid);

    const jwks = await (await fetch(`${r.issuer}/jwks`)).json();
    const kids = jwks.keys.map((k: { kid: string }) => k.kid);
    expect(kids).toEqual(expect.arrayContaining([oldKid, newKid]));
    const keySet = createLocalJWKSet(jwks);
    for (const token of [first.tokens.id_token!, second.tokens.id_token!]) {
      const { payload } = await jwtVerify(token, keySet, { issuer: r.issuer, audience: client.clientId });
      expect(payload.sub).toBeTruthy();
    }
  });
});
