import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Browser } from "../../marketplace/test/support/oauth.ts";
import { startRelyingParty } from "./support/relying-party.ts";

const LIMIT = { max: 5, windowSeconds: 60 };

let s: Awaited<ReturnType<typeof startRelyingParty>>;
beforeAll(async () => {
  s = await startRelyingParty({ kit: { callbackRateLimit: LIMIT } });
});
afterAll(() => s?.close());

/** A GET from another loopback address (another browser, another network), carrying `cookies`. */
function getFrom(localAddress: string, url: string, cookies: Map<string, string>) {
  return new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const headers = { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join("; "), accept: "text/html" };
    const req = request(url, { localAddress, headers }, (res) => {
      for (const line of res.headers["set-cookie"] ?? []) {
        const [pair = ""] = line.split(";");
        const eq = pair.indexOf("=");
        cookies.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      res.resume().on("end", () => resolve({ status: res.statusCode!, location: res.headers.location }));
    });
    req.on("error", reject).end();
  });
}

/** A callback for a real, fresh transaction of `browser` (its state cookie and state), with a forged code. */
async function forgedCallback(browser: Browser) {
  const start = await browser.fetch("/api/auth/sign-in/marketplace");
  const authorize = await fetch(start.headers.get("location")!, { redirect: "manual" });
  const url = new URL(authorize.headers.get("location")!);
  url.searchParams.set("code", "bogus");
  return url.toString();
}

describe("F.4 (agent part) sign-in callbacks are throttled per browser", () => {
  it("F.4d a flood of forged callbacks with valid-looking transactions from one address reaches the token endpoint at most `max` times; another address still signs in", async () => {
    const attacker = new Browser(s.url);
    // Without a matching transaction, nothing reaches the token endpoint at all (B.2/B.8).
    const before = s.provider.calls.token;
    for (let i = 0; i < 3; i++) {
      const callback = await new Browser(s.url).fetch(
        `/api/auth/oauth2/callback/marketplace?code=bogus&state=forged-${i}&iss=${encodeURIComponent(s.provider.issuer)}`,
      );
      expect(callback.status).toBe(400);
    }
    expect(s.provider.calls.token).toBe(before);

    const statuses: number[] = [];
    for (let i = 0; i < 3 * LIMIT.max; i++) {
      // Rotating a client-sent X-Forwarded-For buys nothing: the address is the socket's unless a proxy is trusted.
      const response = await attacker.fetch(await forgedCallback(attacker), {
        headers: { "x-forwarded-for": `203.0.113.${i}` },
      });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
    }
    // The first callbacks count too; whatever the split, the marketplace saw at most `max` forged codes.
    expect(s.provider.calls.token - before).toBeLessThanOrEqual(LIMIT.max);
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(2 * LIMIT.max);

    // A real user on another address is unaffected.
    const cookies = new Map<string, string>();
    const start = await getFrom("127.0.0.2", `${s.url}/api/auth/sign-in/marketplace`, cookies);
    const authorize = await fetch(start.location!, { redirect: "manual" });
    const done = await getFrom("127.0.0.2", authorize.headers.get("location")!, cookies);
    expect(done.status).toBe(303);
    expect(cookies.has("agent.session_token")).toBe(true);
  });
});
