import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import {
  AGENT_SCOPE,
  authorizeUrl,
  Browser,
  decodeJwt,
  fullFlow,
  PASSWORD,
  pkce,
  redirectTarget,
  signedInBrowser,
  tokenRequest,
} from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
let browser: Browser;
let challenge: { verifier: string; challenge: string };

beforeAll(async () => {
  t = await startTestMarketplace();
  client = await t.createClient();
  ({ browser } = await signedInBrowser(t.url));
  challenge = await pkce();
});
afterAll(() => t?.close());

/** Authorize parameters of a valid request; tests override one thing at a time. */
const valid = (over: Record<string, string | undefined> = {}) => ({
  response_type: "code",
  client_id: client.clientId,
  redirect_uri: client.redirectUri,
  scope: AGENT_SCOPE,
  state: "st-123",
  code_challenge: challenge.challenge,
  code_challenge_method: "S256",
  ...over,
});

async function authorize(params: Record<string, string | undefined>, who: Browser = browser) {
  const response = await who.fetch(authorizeUrl(t.issuer, params));
  const target = await redirectTarget(response);
  return { response, target: target ? new URL(target, t.url) : null };
}

/** Asserts the request was refused back to the client's redirect URI with this OAuth error. */
async function expectClientError(params: Record<string, string | undefined>, error: string) {
  const { target } = await authorize(params);
  expect(target, "expected a redirect back to the client").not.toBeNull();
  expect(`${target!.origin}${target!.pathname}`).toBe(client.redirectUri);
  expect(errorOf(target!)).toBe(error);
  expect(target!.searchParams.get("code")).toBeNull();
  return target!;
}

/** Asserts the browser was NOT sent to `uri` (an untrusted redirect): an error page or a marketplace-local error instead. */
async function expectNoRedirectTo(params: Record<string, string | undefined>, uri?: string) {
  const { response, target } = await authorize(params);
  if (target) {
    expect(target.origin).toBe(new URL(t.url).origin);
    if (uri) expect(target.toString().startsWith(uri)).toBe(false);
    expect(target.searchParams.get("code")).toBeNull();
  } else {
    expect(response.status).toBeGreaterThanOrEqual(400);
  }
}

describe("authorization endpoint", () => {
  it("issues a code for a valid request, with iss and the exact state", async () => {
    const { target } = await authorize(valid({ state: "a b+c/é" }));
    expect(target!.searchParams.get("code")).toBeTruthy();
    expect(target!.searchParams.get("state")).toBe("a b+c/é");
    expect(target!.searchParams.get("iss")).toBe(t.issuer);
  });

  it("A.4 missing or unsupported response_type is refused", async () => {
    await expectClientError(valid({ response_type: undefined }), "invalid_request");
    await expectClientError(valid({ response_type: "token" }), "unsupported_response_type");
  });

  it("A.5 unregistered redirect_uri or unknown client shows an error page and never redirects there", async () => {
    await expectNoRedirectTo(
      valid({ redirect_uri: "https://evil.example.com/cb" }),
      "https://evil.example.com",
    );
    await expectNoRedirectTo(valid({ client_id: "no-such-client" }), client.redirectUri);
  });

  it("A.6 near-miss redirect URIs are rejected without redirect", async () => {
    const u = new URL(client.redirectUri);
    const nearMisses = [
      `${u.protocol}//${u.hostname}:443${u.pathname}`,
      `${u.protocol}//${u.hostname.toUpperCase()}${u.pathname}`,
      `${client.redirectUri}/`,
      `${client.redirectUri}?extra=1`,
      `${client.redirectUri}#fragment`,
      client.redirectUri.replace("https:", "http:"),
    ];
    for (const uri of nearMisses) await expectNoRedirectTo(valid({ redirect_uri: uri }), uri);
  });

  it("A.7 redirect_uri omitted while several are registered is an error", async () => {
    const multi = await t.createClient({
      redirectUris: ["https://multi.example.com/cb/one", "https://multi.example.com/cb/two"],
    });
    await expectNoRedirectTo(
      valid({ client_id: multi.clientId, redirect_uri: undefined }),
      "https://multi.example.com",
    );
  });

  it("A.8 a request without code_challenge is invalid_request", async () => {
    await expectClientError(
      valid({ code_challenge: undefined, code_challenge_method: undefined }),
      "invalid_request",
    );
  });

  it("A.9 code_challenge_method plain, unknown or omitted is rejected", async () => {
    await expectClientError(valid({ code_challenge_method: "plain" }), "invalid_request");
    await expectClientError(valid({ code_challenge_method: "S512" }), "invalid_request");
    await expectClientError(valid({ code_challenge_method: undefined }), "invalid_request");
  });

  it("A.10 a malformed challenge (not 43 base64url characters) is invalid_request", async () => {
    await expectClientError(valid({ code_challenge: "short" }), "invalid_request");
    await expectClientError(valid({ code_challenge: `${challenge.challenge}A` }), "invalid_request");
    await expectClientError(
      valid({ code_challenge: `${challenge.challenge.slice(0, 42)}+` }),
      "invalid_request",
    );
  });

  it("A.11 duplicated parameters are invalid_request", async () => {
    const url = new URL(authorizeUrl(t.issuer, valid()));
    url.searchParams.append("scope", "openid");
    const response = await browser.fetch(url.toString());
    const target = new URL((await redirectTarget(response))!, t.url);
    expect(target.searchParams.get("code")).toBeNull();
    expect(target.searchParams.get("error")).toBe("invalid_request");
  });

  it("A.12 unknown extra parameters and reordered scopes still succeed", async () => {
    const reordered = AGENT_SCOPE.split(" ").reverse().join(" ");
    const { target } = await authorize(valid({ scope: reordered, foo: "bar", ui_locales: "fr" }));
    expect(target!.searchParams.get("code")).toBeTruthy();
  });

  it("A.13 without a nonce a code is still issued; a sent nonce is echoed in the ID token", async () => {
    const noNonce = await fullFlow(t.issuer, browser, client, { nonce: undefined });
    expect(decodeJwt(noNonce.tokens.id_token!).payload.nonce).toBeUndefined();
    const withNonce = await fullFlow(t.issuer, browser, client, { nonce: "n-0S6_WzA2Mj" });
    expect(decodeJwt(withNonce.tokens.id_token!).payload.nonce).toBe("n-0S6_WzA2Mj");
  });

  it("A.14 prompt=none without a session answers login_required; with one it issues a code", async () => {
    const anonymous = new Browser(t.url);
    const { target } = await authorize(valid({ prompt: "none" }), anonymous);
    expect(target!.searchParams.get("error")).toBe("login_required");
    expect(target!.searchParams.get("state")).toBe("st-123");
    const signedIn = await authorize(valid({ prompt: "none" }));
    expect(signedIn.target!.searchParams.get("code")).toBeTruthy();
  });

  it("A.14 prompt=login and max_age=0 send a signed-in user back to the sign-in page", async () => {
    for (const extra of [{ prompt: "login" }, { max_age: "0" }]) {
      const { target } = await authorize(valid(extra));
      expect(target!.origin).toBe(new URL(t.url).origin);
      expect(target!.pathname).toBe("/sign-in");
    }
  });

  it("A.14 a generous max_age and an id_token_hint do not get in the way", async () => {
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const { target } = await authorize(valid({ max_age: "3600", id_token_hint: tokens.id_token }));
    expect(target!.searchParams.get("code")).toBeTruthy();
  });

  it("A.15 error responses carry iss and the exact state too", async () => {
    const target = await expectClientError(
      valid({ code_challenge: undefined, state: "x/y z" }),
      "invalid_request",
    );
    expect(target.searchParams.get("state")).toBe("x/y z");
    expect(target.searchParams.get("iss")).toBe(t.issuer);
  });

  it("A.16 POST to the authorization endpoint works", async () => {
    const response = await browser.fetch(`${t.issuer}/oauth2/authorize`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(valid() as Record<string, string>),
    });
    const target = new URL((await redirectTarget(response))!);
    expect(target.searchParams.get("code")).toBeTruthy();
  });

  it("an unauthenticated authorize goes to sign-in and, after sign-in, continues the same request (303)", async () => {
    const { email } = await signedInBrowser(t.url);
    const visitor = new Browser(t.url);
    const first = await authorize(valid({ state: "continue-me" }), visitor);
    expect(first.target!.pathname).toBe("/sign-in");

    const page = await visitor.fetch(`${first.target!.pathname}${first.target!.search}`);
    const html = await page.text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const oauthQuery = /name="oauth_query" value="([^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    const posted = await visitor.fetch("/sign-in", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(t.url).origin },
      body: new URLSearchParams({ csrf, oauth_query: oauthQuery, email, password: PASSWORD }),
    });
    // A.17: the login form post answers 303 See Other.
    expect(posted.status).toBe(303);
    const target = new URL(posted.headers.get("location")!);
    expect(`${target.origin}${target.pathname}`).toBe(client.redirectUri);
    expect(target.searchParams.get("state")).toBe("continue-me");
    const code = target.searchParams.get("code")!;
    const token = await tokenRequest(t.issuer, {
      grant_type: "authorization_code",
      code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: challenge.verifier,
    });
    expect(token.status).toBe(200);
  });
});

describe("sign-in and consent pages", () => {
  it("A.18 send frame-ancestors 'none' and Referrer-Policy no-referrer", async () => {
    for (const path of ["/sign-in", "/sign-up", "/signed-out", "/error?error=x"]) {
      const response = await fetch(`${t.url}${path}`);
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
      expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    }
  });

  it("A.18 reject a form post without the CSRF token or from another origin", async () => {
    const { email } = await signedInBrowser(t.url);
    const visitor = new Browser(t.url);
    const page = await (await visitor.fetch("/sign-in")).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const post = (body: Record<string, string>, origin = new URL(t.url).origin) =>
      visitor.fetch("/sign-in", {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", origin },
        body: new URLSearchParams(body),
      });
    expect((await post({ email, password: PASSWORD })).status).toBe(403);
    expect((await post({ email, password: PASSWORD, csrf: "x".repeat(43) })).status).toBe(403);
    expect((await post({ email, password: PASSWORD, csrf }, "https://evil.example.com")).status).toBe(403);
    expect(visitor.cookies.has("marketplace.session_token")).toBe(false);
    expect((await post({ email, password: PASSWORD, csrf })).status).toBe(303);
  });

  it("consent is shown to clients that do not skip it and Allow continues the request", async () => {
    const thirdParty = await t.createClient({ skipConsent: false });
    const { target } = await authorize(
      valid({ client_id: thirdParty.clientId, redirect_uri: thirdParty.redirectUri }),
    );
    expect(target!.pathname).toBe("/consent");
    const page = await browser.fetch(`${target!.pathname}${target!.search}`);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    const html = await page.text();
    expect(html).toContain("See your email address");
    const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
    const oauthQuery = /name="oauth_query" value="([^"]+)"/.exec(html)![1]!.replaceAll("&amp;", "&");
    const allow = await browser.fetch("/consent", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(t.url).origin },
      body: new URLSearchParams({ csrf, oauth_query: oauthQuery, accept: "true" }),
    });
    expect(allow.status).toBe(303);
    const back = new URL(allow.headers.get("location")!);
    expect(`${back.origin}${back.pathname}`).toBe(thirdParty.redirectUri);
    expect(back.searchParams.get("code")).toBeTruthy();
  });
});

/** The OAuth error of a redirect, in the query (code flow) or the fragment (implicit-style response types). */
function errorOf(target: URL): string | null {
  return target.searchParams.get("error") ?? new URLSearchParams(target.hash.slice(1)).get("error");
}
