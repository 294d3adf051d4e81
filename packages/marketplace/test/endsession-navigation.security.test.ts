import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { type Browser, fullFlow, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
let client: { clientId: string; redirectUri: string };
const logoutUri = "https://agent-logout.example.com/signed-out";

beforeAll(async () => {
  t = await startTestMarketplace();
  client = await t.createClient({ postLogoutRedirectUris: [logoutUri] });
});
afterAll(() => t?.close());

describe("F.11 end-session answers a browser navigation with a redirect", () => {
  async function logoutParams(state: string) {
    const { browser } = await signedInBrowser(t.url);
    const { tokens } = await fullFlow(t.issuer, browser, client);
    const params = new URLSearchParams({
      id_token_hint: tokens.id_token!,
      post_logout_redirect_uri: logoutUri,
      state,
    });
    return { browser, params };
  }

  const hasSession = async (browser: Browser) =>
    (await (
      await browser.fetch("/api/auth/get-session", { headers: { accept: "application/json" } })
    ).json()) !== null;

  it("F.11b a top-level navigation (node:http: Accept text/html, Sec-Fetch-Mode navigate) gets a 302 to the post-logout URI and no JSON", async () => {
    const { browser, params } = await logoutParams("bye");
    const response = await browser.fetch(`${t.issuer}/oauth2/endsession?${params}`);
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${logoutUri}?state=bye`);
    expect(await response.text()).toBe("");
    expect(await hasSession(browser)).toBe(false);
  });

  it("F.11c a script-style request (fetch: Sec-Fetch-Mode cors) gets the same 302, never { redirect, url }", async () => {
    const { browser, params } = await logoutParams("bye-fetch");
    const response = await fetch(`${t.issuer}/oauth2/endsession?${params}`, {
      redirect: "manual",
      headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ") },
    });
    expect(response.status).toBe(302);
    expect(response.headers.get("location")).toBe(`${logoutUri}?state=bye-fetch`);
    expect(await response.text()).toBe("");
    expect(await hasSession(browser)).toBe(false);
  });
});
