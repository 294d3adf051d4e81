import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser } from "../../marketplace/test/support/oauth.ts";
import { startRelyingParty } from "./support/relying-party.ts";

const FRONTEND = "https://app.example.com";

describe("same-origin mode", () => {
  let s: Awaited<ReturnType<typeof startRelyingParty>>;
  beforeAll(async () => {
    s = await startRelyingParty();
  });
  afterAll(() => s?.close());

  it("B.32 the session cookie is HttpOnly, SameSite=Lax, Path=/, without Domain; B.34 no token reaches the browser", async () => {
    const { callback } = await s.signIn();
    const session = callback.headers.getSetCookie().find((c) => c.startsWith("agent.session_token="))!;
    expect(session).toMatch(/HttpOnly/i);
    expect(session).toMatch(/SameSite=Lax/i);
    expect(session).toMatch(/Path=\//i);
    expect(session).not.toMatch(/Domain=/i);
    const everything = `${callback.headers.get("location")} ${callback.headers.getSetCookie().join(" ")}`;
    expect(everything).not.toMatch(/code=|access_token|refresh_token|id_token/);
  });
});

describe("cross-origin mode", () => {
  let s: Awaited<ReturnType<typeof startRelyingParty>>;
  beforeAll(async () => {
    s = await startRelyingParty({ cookies: { cookieMode: "cross-origin", frontendOrigin: FRONTEND } });
  });
  afterAll(() => s?.close());

  it("B.32 cookies are SameSite=None; Secure", async () => {
    const { callback } = await s.signIn();
    const session = callback.headers.getSetCookie().find((c) => c.includes("agent.session_token="))!;
    expect(session).toMatch(/SameSite=None/i);
    expect(session).toMatch(/Secure/i);
    expect(session).toMatch(/HttpOnly/i);
  });

  it("B.33 CORS allows exactly the frontend origin with credentials, never *", async () => {
    const preflight = await fetch(`${s.url}/api/chat`, { method: "OPTIONS", headers: { origin: FRONTEND } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(FRONTEND);
    expect(preflight.headers.get("access-control-allow-credentials")).toBe("true");
    const foreign = await fetch(`${s.url}/me`, { headers: { origin: "https://evil.example.com" } });
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("B.33 a mutating request from a foreign origin, or with no origin, is 403", async () => {
    const { browser } = await s.signIn();
    for (const origin of ["https://evil.example.com", undefined]) {
      const response = await browser.fetch(`${s.url}/api/chat`, {
        method: "POST",
        headers: { accept: "application/json", ...(origin ? { origin } : {}) },
      });
      expect(response.status).toBe(403);
      expect(await response.json()).toMatchObject({ error: "forbidden_origin" });
    }
    const allowed = await browser.fetch(`${s.url}/api/chat`, {
      method: "POST",
      headers: { accept: "application/json", origin: FRONTEND },
    });
    expect(allowed.status).not.toBe(403);
  });

  it("return targets may be absolute on the frontend origin only", async () => {
    const browser = new Browser(s.url);
    const start = await browser.fetch(
      `/api/auth/sign-in/marketplace?returnTo=${encodeURIComponent(`${FRONTEND}/dashboard`)}`,
    );
    const authorize = await browser.fetch(start.headers.get("location")!);
    const callback = await browser.fetch(authorize.headers.get("location")!);
    expect(callback.headers.get("location")).toBe(`${FRONTEND}/dashboard`);
  });
});
