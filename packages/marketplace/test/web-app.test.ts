import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { get as httpGet } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { adminBrowser, type DemoAgent, registerAgent } from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { AGENT_SCOPE, authorizeUrl, Browser, pkce, redirectTarget } from "./support/oauth.ts";

/**
 * How the marketplace serves its web app (src/web/): hashed assets cached for
 * good, index.html only for browser navigations to the app's routes, an HTML
 * 404 for browsers and the JSON envelope for API clients; CORS only for the
 * configured UI origin; hosted sign-in pages that name the agent.
 */
const NAVIGATE = { accept: "text/html,application/xhtml+xml", "sec-fetch-mode": "navigate" };
const FETCH = { accept: "application/json", "sec-fetch-mode": "cors" };
const INDEX =
  '<!doctype html><html><body><div id="root"></div><script src="/assets/app-abc123.js"></script></body></html>';

let dist: string;
let t: TestMarketplace;
let crossOrigin: TestMarketplace;
let agent: DemoAgent;
let agentName: string;
beforeAll(async () => {
  // A stand-in build: what is tested here is the serving, not the app.
  dist = mkdtempSync(join(tmpdir(), "web-dist-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(join(dist, "index.html"), INDEX);
  writeFileSync(join(dist, "assets", "app-abc123.js"), "console.log('app');");
  t = await startTestMarketplace({ MARKETPLACE_WEB_DIR: dist });
  crossOrigin = await startTestMarketplace({
    MARKETPLACE_WEB_DIR: dist,
    MARKETPLACE_UI_ORIGIN: "http://ui.localhost:5320",
  });
  agent = await registerAgent(await adminBrowser(t), {});
  agentName = (await (await fetch(`${t.url}/agents/${agent.id}`)).json()).data.name;
});
afterAll(async () => {
  await Promise.all([t?.close(), crossOrigin?.close()]);
  rmSync(dist, { recursive: true, force: true });
});

/**
 * A GET with exactly these headers. Over node:http, not fetch: Node's fetch always sends
 * `sec-fetch-mode: cors`, so it cannot act as a browser navigation.
 */
function get(path: string, headers: Record<string, string>, base = t.url): Promise<Response> {
  return new Promise((resolve, reject) => {
    const request = httpGet(`${base}${path}`, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers))
          for (const v of Array.isArray(value) ? value : [value ?? ""]) out.append(name, v);
        const status = res.statusCode!;
        resolve(
          new Response([204, 304].includes(status) ? null : Buffer.concat(chunks), { status, headers: out }),
        );
      });
    });
    request.on("error", reject);
  });
}

describe("the web app, served by the marketplace", () => {
  it("browser navigations to app routes get index.html, revalidated on every load, with a CSP", async () => {
    for (const path of [
      "/",
      "/agent/kb-assistant",
      `/pricing/${agent.slug}`,
      "/account",
      "/console/agents/x",
    ]) {
      const response = await get(path, NAVIGATE);
      expect(response.status, path).toBe(200);
      expect(await response.text()).toBe(INDEX);
      expect(response.headers.get("content-type")).toContain("text/html");
      expect(response.headers.get("cache-control")).toBe("no-cache");
      expect(response.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    }
  });

  it("hashed assets are cached for a year; a missing asset is a 404", async () => {
    const asset = await get("/assets/app-abc123.js", { accept: "*/*" });
    expect(asset.status).toBe(200);
    expect(asset.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(asset.headers.get("content-type")).toContain("javascript");
    expect((await get("/assets/nope.js", { accept: "*/*" })).status).toBe(404);
    expect((await get("/assets/..%2findex.html", { accept: "*/*" })).status).toBe(404);
  });

  it("unknown paths: an HTML 404 page for a browser, the JSON envelope for an API client", async () => {
    const page = await get("/no/such/page", NAVIGATE);
    expect(page.status).toBe(404);
    expect(page.headers.get("content-type")).toContain("text/html");
    expect(await page.text()).toBe(INDEX);

    const api = await get("/no/such/page", FETCH);
    expect(api.status).toBe(404);
    expect(await api.json()).toMatchObject({ status: "error", error: { code: "NOT_FOUND" } });
  });

  it("the SPA fallback never answers an API client, nor a browser on an API path", async () => {
    // An app route fetched as JSON is not the app.
    const asJson = await get("/account", FETCH);
    expect(asJson.status).toBe(404);
    expect((await asJson.json()).error.code).toBe("NOT_FOUND");
    // API routes answer JSON whatever the Accept header says.
    const agents = await get("/agents", NAVIGATE);
    expect(agents.headers.get("content-type")).toContain("application/json");
    const me = await get("/me", NAVIGATE);
    expect(me.status).toBe(401);
    expect((await me.json()).error.code).toBe("UNAUTHORIZED");
  });

  it("the hosted sign-in and sign-up pages name and show the agent the user is signing in to", async () => {
    const visitor = new Browser(t.url);
    const { challenge } = await pkce();
    const response = await visitor.fetch(
      authorizeUrl(t.issuer, {
        response_type: "code",
        client_id: agent.clientId,
        redirect_uri: agent.redirectUri,
        scope: AGENT_SCOPE,
        state: "s",
        code_challenge: challenge,
        code_challenge_method: "S256",
      }),
    );
    const target = new URL((await redirectTarget(response))!, t.url);
    expect(target.pathname).toBe("/sign-in");
    const signIn = await (await visitor.fetch(`${target.pathname}${target.search}`)).text();
    expect(signIn).toMatch(/data-testid="requesting-app"[\s\S]*Sign in to continue to <strong>Agent /);
    expect(signIn).toContain(`<strong>${agentName}</strong>`);
    const signUp = await (await visitor.fetch(`/sign-up${target.search}`)).text();
    expect(signUp).toContain(`Create an account to continue to <strong>${agentName}</strong>`);
    // Without an authorization request there is no agent to name.
    expect(await (await visitor.fetch("/sign-in")).text()).not.toContain("requesting-app");
  });
});

describe("cross-origin mode (MARKETPLACE_UI_ORIGIN)", () => {
  const ui = "http://ui.localhost:5320";

  it("answers CORS with credentials for the UI origin only", async () => {
    const allowed = await get("/agents", { ...FETCH, origin: ui }, crossOrigin.url);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(ui);
    expect(allowed.headers.get("access-control-allow-credentials")).toBe("true");
    const preflight = await fetch(`${crossOrigin.url}/me`, {
      method: "OPTIONS",
      headers: {
        origin: ui,
        "access-control-request-method": "POST",
        "access-control-request-headers": "content-type",
      },
    });
    expect(preflight.status).toBeLessThan(300);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(ui);

    const other = await get("/agents", { ...FETCH, origin: "https://evil.example" }, crossOrigin.url);
    expect(other.headers.get("access-control-allow-origin")).toBeNull();
    // The same-origin marketplace sends no CORS headers at all.
    const sameOrigin = await get("/agents", { ...FETCH, origin: ui });
    expect(sameOrigin.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("session cookies are SameSite=None; Secure when the UI is on another origin", async () => {
    const response = await fetch(`${crossOrigin.url}/api/auth/sign-up/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: ui },
      body: JSON.stringify({ email: `x-${Date.now()}@example.com`, password: "long-enough-pw", name: "X" }),
    });
    expect(response.status).toBe(200);
    const cookie = response.headers.getSetCookie().find((c) => c.includes("session_token"));
    expect(cookie).toMatch(/SameSite=None/i);
    expect(cookie).toMatch(/Secure/i);
  });

  it("after sign-in, `next` may return to the UI origin (and only there)", async () => {
    const signIn = (next: string) =>
      get(`/sign-in?next=${encodeURIComponent(next)}`, NAVIGATE, crossOrigin.url);
    expect(await (await signIn(`${ui}/account`)).text()).toContain(
      `next=${encodeURIComponent(`${ui}/account`)}`,
    );
    expect(await (await signIn("https://evil.example/account")).text()).not.toContain("evil.example");
  });
});
