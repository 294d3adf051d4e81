import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expressRoutes } from "./express-routes.ts";
import { startAgentApp } from "./support.ts";

let s: Awaited<ReturnType<typeof startAgentApp>>;
beforeAll(async () => {
  s = await startAgentApp();
});
afterAll(() => s?.close());

const FOREIGN: Record<string, string>[] = [
  { origin: "https://evil.example" },
  // Same site, other port: SameSite=Lax cookies ride along from it.
  { origin: "http://127.0.0.1:1" },
  { origin: "null" },
  { "sec-fetch-site": "cross-site" },
  { "sec-fetch-site": "same-site" },
  {},
];

describe("F.6 cookie-authenticated state changes on the agent refuse foreign origins", () => {
  it("F.6a every state-changing route of the reference agent (read from its router) answers 403 to a foreign or missing origin, and changes nothing", async () => {
    const user = await s.demoUser();
    const kb = (await user.call("POST", "/api/kbs", { name: "Mine" })).json.knowledgeBase;
    const routes = expressRoutes(s.app, kb.id).filter((r) => !["GET", "HEAD"].includes(r.method));
    expect(routes).toEqual(
      expect.arrayContaining([
        { method: "POST", path: "/api/kbs" },
        { method: "DELETE", path: `/api/kbs/${kb.id}` },
        { method: "POST", path: `/api/kbs/${kb.id}/ask` },
        { method: "POST", path: "/api/auth/sign-out" },
      ]),
    );
    const before = await user.call("GET", "/api/kbs");
    const usage = await user.call("GET", "/api/me/usage");
    const accepted: string[] = [];
    for (const { method, path } of routes) {
      for (const headers of FOREIGN) {
        const response = await user.browser.fetch(path, {
          method,
          headers: { accept: "application/json", "content-type": "application/json", ...headers },
          // node:http sends a DELETE body unframed; a browser's forged DELETE needs none anyway.
          ...(method === "DELETE"
            ? {}
            : { body: JSON.stringify({ name: "Forged", question: "forged?", title: "t", content: "c" }) }),
        });
        const body = await response.json().catch(() => null);
        if (response.status !== 403 || body?.error !== "forbidden_origin")
          accepted.push(`${method} ${path} ${JSON.stringify(headers)} → ${response.status}`);
      }
    }
    expect(accepted).toEqual([]);
    // Still signed in (the forged sign-outs did nothing), same knowledge bases, nothing charged or released.
    expect((await user.call("GET", "/me")).status).toBe(200);
    expect((await user.call("GET", "/api/kbs")).json).toEqual(before.json);
    expect((await user.call("GET", "/api/me/usage")).json).toEqual(usage.json);
  });

  it("F.6b the agent's own origin (or Sec-Fetch-Site: same-origin) is accepted, and a request without cookies is left to the route", async () => {
    const user = await s.demoUser();
    const created = await user.browser.fetch("/api/kbs", {
      method: "POST",
      headers: { accept: "application/json", "content-type": "application/json", origin: s.agentUrl },
      body: JSON.stringify({ name: "Trusted" }),
    });
    expect(created.status).toBe(201);
    const id = (await created.json()).knowledgeBase.id;
    const renamed = await user.browser.fetch(`/api/kbs/${id}`, {
      method: "PATCH",
      headers: {
        accept: "application/json",
        "content-type": "application/json",
        "sec-fetch-site": "same-origin",
      },
      body: JSON.stringify({ name: "Renamed" }),
    });
    expect(renamed.status).toBe(200);
    const anonymous = await fetch(`${s.agentUrl}/api/kbs`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://evil.example" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(anonymous.status).toBe(401);
    const out = await user.browser.fetch("/api/auth/sign-out", {
      method: "POST",
      headers: { accept: "application/json", origin: s.agentUrl },
    });
    expect(out.status).toBe(200);
    expect((await user.call("GET", "/me")).status).toBe(401);
  });
});
