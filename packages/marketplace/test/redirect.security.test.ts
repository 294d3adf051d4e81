import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HOSTILE_REDIRECTS } from "../../contract/test/hostile-redirects.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { Browser, PASSWORD, signedInBrowser } from "./support/oauth.ts";

let t: TestMarketplace;
beforeAll(async () => {
  t = await startTestMarketplace();
});
afterAll(() => t?.close());

/** Signs in through the HTML form as a browser does: GET the page (CSRF cookie), then POST its form. */
async function signInWithNext(email: string, next: string, where: "query" | "body") {
  const browser = new Browser(t.url);
  const query = where === "query" ? `?next=${encodeURIComponent(next)}` : "";
  const page = await (await browser.fetch(`/sign-in${query}`)).text();
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
  const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!.replaceAll("&amp;", "&");
  return browser.fetch(action, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(t.url).origin },
    body: new URLSearchParams({ csrf, email, password: PASSWORD, ...(where === "body" ? { next } : {}) }),
  });
}

describe("F.7 the marketplace's next after sign-in follows the one redirect rule", () => {
  it("F.7c a hostile next never reaches the sign-in form", async () => {
    const kept: string[] = [];
    for (const next of HOSTILE_REDIRECTS) {
      const page = await (await fetch(`${t.url}/sign-in?next=${encodeURIComponent(next)}`)).text();
      const action = /<form method="post" action="([^"]+)"/.exec(page)![1]!;
      if (action !== "/sign-in") kept.push(`${JSON.stringify(next)} → ${action}`);
    }
    expect(kept).toEqual([]);
  });

  it("F.7d signing in with next=/\\t/evil.example/x (query or body) lands on /, a same-origin next is kept", async () => {
    const { email } = await signedInBrowser(t.url);
    for (const where of ["query", "body"] as const) {
      const hostile = await signInWithNext(email, "/\t/evil.example/x", where);
      expect(hostile.status).toBe(303);
      expect(hostile.headers.get("location")).toBe("/");
    }
    const kept = await signInWithNext(email, "/dashboard?tab=usage", "query");
    expect(kept.status).toBe(303);
    expect(kept.headers.get("location")).toBe("/dashboard?tab=usage");
  });
});
