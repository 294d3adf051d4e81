import * as oauth from "oauth4webapi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { AGENT_SCOPE, authorizeCode, decodeJwt, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
beforeAll(async () => {
  t = await startTestMarketplace();
});
afterAll(() => t?.close());

describe("authorization code + PKCE with a certified client library (oauth4webapi)", () => {
  it("A.19 token happy path: no-store, Bearer, expires_in 36000, ID token claims", async () => {
    const client = await t.createClient();
    const { browser, email, userId } = await signedInBrowser(t.url, { name: "Ada Lovelace" });

    const as = await oauth.processDiscoveryResponse(
      new URL(t.issuer),
      await oauth.discoveryRequest(new URL(t.issuer), {
        algorithm: "oidc",
        [oauth.allowInsecureRequests]: true,
      }),
    );
    const oc: oauth.Client = { client_id: client.clientId };
    const auth = await authorizeCode(t.issuer, browser, client);
    const params = oauth.validateAuthResponse(as, oc, auth.url, auth.state);

    const response = await oauth.authorizationCodeGrantRequest(
      as,
      oc,
      oauth.None(),
      params,
      client.redirectUri,
      auth.pkce.verifier,
      { [oauth.allowInsecureRequests]: true },
    );
    expect(response.headers.get("cache-control")).toContain("no-store");
    const result = await oauth.processAuthorizationCodeResponse(as, oc, response, {
      expectedNonce: auth.nonce,
      requireIdToken: true,
    });
    expect(result.token_type.toLowerCase()).toBe("bearer");
    expect(result.expires_in).toBe(36_000);
    expect(result.refresh_token).toBeTruthy();
    expect(result.scope?.split(" ").sort()).toEqual(AGENT_SCOPE.split(" ").sort());

    const claims = oauth.getValidatedIdTokenClaims(result)!;
    expect(claims.iss).toBe(t.issuer);
    expect(claims.sub).toBe(userId);
    expect(claims.aud).toBe(client.clientId);
    expect(claims.nonce).toBe(auth.nonce);
    expect(typeof claims.auth_time).toBe("number");
    expect(claims.exp - claims.iat).toBe(36_000);
    expect(claims.email).toBe(email);
    expect(claims.name).toBe("Ada Lovelace");
    expect(claims["marketplace:role"]).toBe("org_member");
    expect(claims["marketplace:agentTiers"]).toEqual({});
    expect(claims["marketplace:installs"]).toBeUndefined();
    expect(decodeJwt(result.id_token!).header.alg).toBe("EdDSA");
  });
});
