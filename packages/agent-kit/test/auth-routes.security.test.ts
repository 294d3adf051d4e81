import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_ROUTES } from "../src/kit.ts";
import { startRelyingParty } from "./support/relying-party.ts";

let s: Awaited<ReturnType<typeof startRelyingParty>>;
beforeAll(async () => {
  s = await startRelyingParty();
});
afterAll(() => s?.close());

/** Every endpoint the agent's better-auth instance has, as (method, path) pairs, read from the instance itself. */
function betterAuthEndpoints(): { method: string; path: string }[] {
  const out: { method: string; path: string }[] = [];
  for (const endpoint of Object.values(s.kit.auth.api) as {
    path?: string;
    options?: { method?: unknown };
  }[]) {
    if (!endpoint.path) continue; // server-only (no HTTP path)
    const methods = [endpoint.options?.method ?? "GET"].flat() as string[];
    const path = `/api/auth${endpoint.path.replace(/:[A-Za-z]+/g, "marketplace")}`;
    for (const method of methods) out.push({ method: method === "*" ? "POST" : method, path });
  }
  return out;
}

const allowed = (method: string, path: string) =>
  AUTH_ROUTES.some((r) => r.method === method && r.path === path);

describe("F.5 the agent never hands marketplace tokens to the browser", () => {
  it("F.5a every better-auth endpoint but sign-out answers 404 to a signed-in browser, and no answer carries a token", async () => {
    const { browser } = await s.signIn();
    expect(browser.cookies.has("agent.session_token")).toBe(true);
    const endpoints = betterAuthEndpoints();
    // The list really is better-auth's: the token-handing routes of the issue are in it.
    expect(endpoints).toEqual(
      expect.arrayContaining([
        { method: "POST", path: "/api/auth/get-access-token" },
        { method: "POST", path: "/api/auth/refresh-token" },
        { method: "GET", path: "/api/auth/get-session" },
      ]),
    );
    const answered: string[] = [];
    for (const { method, path } of endpoints) {
      if (allowed(method, path)) continue;
      const response = await browser.fetch(path, {
        method,
        headers: {
          accept: "application/json",
          origin: s.url,
          ...(method === "GET" ? {} : { "content-type": "application/json" }),
        },
        ...(method === "GET" ? {} : { body: JSON.stringify({ providerId: "marketplace" }) }),
      });
      const text = await response.text();
      const leaks = /accessToken|refreshToken|idToken|access_token|"token"/.test(text)
        ? " (with a token)"
        : "";
      if (response.status !== 404 || leaks) answered.push(`${method} ${path} → ${response.status}${leaks}`);
    }
    expect(answered).toEqual([]);
    expect(browser.cookies.has("agent.session_token")).toBe(true);
  });

  it("F.5b the routes an agent needs answer: sign-in, callback, error page, sign-out", async () => {
    const { browser, callback } = await s.signIn();
    expect(callback.status).toBe(303);
    const start = await browser.fetch("/api/auth/sign-in/marketplace?returnTo=/x");
    expect(start.status).toBe(302);
    const error = await browser.fetch("/api/auth/sign-in/error?error=access_denied");
    expect(error.status).toBe(400);
    expect(error.headers.get("content-type")).toMatch(/text\/html/);
    const out = await browser.fetch("/api/auth/sign-out", {
      method: "POST",
      headers: { accept: "application/json", origin: s.url },
    });
    expect(out.status).toBe(200);
    expect(browser.cookies.has("agent.session_token")).toBe(false);
    // The core callback stays behind CALLBACK_PATH (which checks `iss` first).
    expect((await browser.fetch("/api/auth/callback/marketplace?code=x&state=y")).status).toBe(404);
  });
});
