import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PAGE_HEADERS } from "../../../packages/marketplace/src/pages/render.ts";
import { startAgentApp } from "./support.ts";

let s: Awaited<ReturnType<typeof startAgentApp>>;
let dist: string;
beforeAll(async () => {
  dist = mkdtempSync(join(tmpdir(), "agent-web-"));
  mkdirSync(join(dist, "assets"));
  writeFileSync(
    join(dist, "index.html"),
    '<!doctype html><script type="module" src="/assets/app.js"></script>',
  );
  writeFileSync(join(dist, "assets/app.js"), "console.log(1)");
  s = await startAgentApp({ webDist: dist });
});
afterAll(async () => {
  await s?.close();
  rmSync(dist, { recursive: true, force: true });
});

/** The CSP directives of a response, by name. */
const csp = (response: Response) =>
  Object.fromEntries(
    (response.headers.get("content-security-policy") ?? "")
      .split(";")
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name, values.join(" ")]),
  );

describe("F.11 the agent's web app sends the marketplace pages' security headers", () => {
  it("F.11a the app shell (a browser navigation), its assets and the API forbid framing and referrers", async () => {
    const user = await s.demoUser();
    const shell = await user.browser.fetch("/kbs/some-id");
    expect(shell.status).toBe(200);
    expect(shell.headers.get("content-type")).toMatch(/text\/html/);
    const asset = await user.browser.fetch("/assets/app.js");
    const api = await user.browser.fetch("/api/kbs", { headers: { accept: "application/json" } });
    const signedOut = await fetch(`${s.agentUrl}/`, { headers: { accept: "text/html" } });
    for (const response of [shell, asset, api, signedOut]) {
      expect(response.headers.get("x-frame-options")).toBe(PAGE_HEADERS["X-Frame-Options"]);
      expect(response.headers.get("referrer-policy")).toBe(PAGE_HEADERS["Referrer-Policy"]);
      expect(response.headers.get("x-content-type-options")).toBe("nosniff");
      const policy = csp(response);
      expect(policy["frame-ancestors"]).toBe("'none'");
      expect(policy["base-uri"]).toBe("'none'");
      expect(policy["default-src"]).toBe("'self'");
      expect(policy["script-src"]).toBe("'self'");
      expect(policy["object-src"]).toBe("'none'");
      // Served over http here: no HSTS and no upgrade to an https port that does not exist.
      expect(response.headers.get("strict-transport-security")).toBeNull();
      expect(policy["upgrade-insecure-requests"]).toBeUndefined();
    }
    expect(shell.headers.get("cache-control")).toBe(PAGE_HEADERS["Cache-Control"]);
  });
});
