import { generateKeyPair, SignJWT, UnsecuredJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { Browser, decodeJwt, fullFlow, redirectTarget, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
const logoutUri = "https://agent-logout.example.com/signed-out";

beforeAll(async () => {
  // Short ID tokens so one test can present an expired hint.
  t = await startTestMarketplace({ ID_TOKEN_TTL_SECONDS: "2", JWKS_GRACE_PERIOD_SECONDS: "600" });
  client = await t.createClient({ postLogoutRedirectUris: [logoutUri] });
});
afterAll(() => t?.close());

async function signedInWithIdToken() {
  const { browser } = await signedInBrowser(t.url);
  const { tokens } = await fullFlow(t.issuer, browser, client);
  return { browser, idToken: tokens.id_token! };
}

const endSession = (browser: Browser, params: Record<string, string>) =>
  browser.fetch(`${t.issuer}/oauth2/endsession?${new URLSearchParams(params)}`);

async function hasSession(browser: Browser) {
  const response = await browser.fetch("/api/auth/get-session", { headers: { accept: "application/json" } });
  return (await response.json()) !== null;
}

async function expectNoRedirectTo(response: Response, uri: string) {
  const target = await redirectTarget(response);
  if (target) expect(target.startsWith(uri)).toBe(false);
}

describe("RP-initiated logout at /oauth2/endsession", () => {
  it("A.43 a valid hint with a registered URI and state ends the session and redirects with the state", async () => {
    const { browser, idToken } = await signedInWithIdToken();
    expect(await hasSession(browser)).toBe(true);
    const response = await endSession(browser, {
      id_token_hint: idToken,
      post_logout_redirect_uri: logoutUri,
      state: "bye-1",
    });
    const target = new URL((await redirectTarget(response))!);
    expect(`${target.origin}${target.pathname}`).toBe(logoutUri);
    expect(target.searchParams.get("state")).toBe("bye-1");
    expect(await hasSession(browser)).toBe(false);
  });

  it("A.44 an unregistered post_logout_redirect_uri, or one with an added query, is never redirected to", async () => {
    for (const uri of ["https://evil.example.com/", `${logoutUri}?next=evil`, `${logoutUri}/`]) {
      const { browser, idToken } = await signedInWithIdToken();
      await expectNoRedirectTo(
        await endSession(browser, { id_token_hint: idToken, post_logout_redirect_uri: uri }),
        uri,
      );
    }
  });

  it("A.45 a hint with alg none or signed by a foreign key never redirects and keeps the session", async () => {
    const { browser, idToken } = await signedInWithIdToken();
    const claims = decodeJwt(idToken).payload;
    const none = new UnsecuredJWT(claims).encode();
    const { privateKey } = await generateKeyPair("EdDSA", { crv: "Ed25519" });
    const foreign = await new SignJWT(claims)
      .setProtectedHeader({ alg: "EdDSA", kid: decodeJwt(idToken).header.kid as string })
      .sign(privateKey);
    for (const hint of [none, foreign]) {
      await expectNoRedirectTo(
        await endSession(browser, { id_token_hint: hint, post_logout_redirect_uri: logoutUri }),
        logoutUri,
      );
      expect(await hasSession(browser)).toBe(true);
    }
  });

  it("A.46 a redirect request without a hint is not redirected; no parameters shows a logout page", async () => {
    const { browser } = await signedInWithIdToken();
    await expectNoRedirectTo(
      await endSession(browser, { post_logout_redirect_uri: logoutUri, client_id: client.clientId }),
      logoutUri,
    );
    const bare = await endSession(new Browser(t.url), {});
    expect(bare.headers.get("location")).toBeNull();
    expect(bare.headers.get("content-type")).toContain("text/html");
    expect(await bare.text()).toMatch(/log(ged)? ?out/i);
  });

  it("A.47 a client_id that does not match the hint is an error; an expired hint is still accepted", async () => {
    const other = await t.createClient();
    const { browser, idToken } = await signedInWithIdToken();
    const mismatch = await endSession(browser, {
      id_token_hint: idToken,
      client_id: other.clientId,
      post_logout_redirect_uri: logoutUri,
    });
    await expectNoRedirectTo(mismatch, logoutUri);
    expect(await hasSession(browser)).toBe(true);

    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect((decodeJwt(idToken).payload.exp as number) * 1000).toBeLessThan(Date.now());
    const expired = await endSession(browser, {
      id_token_hint: idToken,
      post_logout_redirect_uri: logoutUri,
      state: "late",
    });
    expect(new URL((await redirectTarget(expired))!).searchParams.get("state")).toBe("late");
    expect(await hasSession(browser)).toBe(false);
  });
});
