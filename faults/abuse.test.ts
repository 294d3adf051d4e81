import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { operationsOf } from "../packages/marketplace/src/openapi/document.ts";
import { adminBrowser } from "../packages/marketplace/test/support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "../packages/marketplace/test/support/harness.ts";
import { type Browser, PASSWORD, signedInBrowser } from "../packages/marketplace/test/support/oauth.ts";

describe("E.5 hostile bodies on every JSON route", () => {
  let t: TestMarketplace;
  let admin: Browser;
  beforeAll(async () => {
    t = await startTestMarketplace();
    admin = await adminBrowser(t);
  });
  afterAll(() => t?.close());

  const bodies: [string, string | Uint8Array<ArrayBuffer>, string][] = [
    ["10 MB", JSON.stringify({ x: "a".repeat(10 * 1024 * 1024) }), "application/json"],
    ["deeply nested", `${"[".repeat(100_000)}${"]".repeat(100_000)}`, "application/json"],
    [
      "invalid UTF-8",
      Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
      "application/json",
    ],
    ["malformed", '{"delta": 1,', "application/json"],
    ["wrong content type", "delta=1&clientReqId=x", "application/x-www-form-urlencoded"],
    ["no content type", '{"delta":1}', ""],
  ];

  it("answer 400/401/403/404/413 with the envelope, never 5xx, and memory stays flat", async () => {
    const rssBefore = process.memoryUsage().rss;
    const document = await (await fetch(`${t.url}/openapi.json`)).json();
    const mutating = operationsOf(document).filter((op) => op.method === "post" || op.method === "put");
    expect(mutating.length).toBeGreaterThan(10);
    for (const op of mutating) {
      const path = op.path.replace(/\{\w+\}/g, "00000000-0000-0000-0000-000000000000");
      for (const [label, body, type] of bodies) {
        const response = await admin.fetch(path, {
          method: op.method.toUpperCase(),
          headers: { accept: "application/json", origin: t.url, ...(type ? { "content-type": type } : {}) },
          body,
        });
        const text = await response.text();
        expect(response.status, `${op.method} ${op.path} with ${label}: ${text.slice(0, 200)}`).toBeLessThan(
          500,
        );
        expect([400, 401, 403, 404, 413]).toContain(response.status);
        expect(JSON.parse(text)).toMatchObject({ status: "error" });
      }
    }
    // The server process is this process: its resident memory must not balloon with the attack.
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(400 * 1024 * 1024);
    expect((await fetch(`${t.url}/ready`)).status).toBe(200);
  });
});

describe("E.6 sign-in brute force", () => {
  let t: TestMarketplace;
  let email: string;
  beforeAll(async () => {
    t = await startTestMarketplace({ RATE_LIMIT: "on" });
    ({ email } = await signedInBrowser(t.url));
  });
  afterAll(() => t?.close());

  const attempt = (who: string, password: string) =>
    fetch(`${t.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: t.url },
      body: JSON.stringify({ email: who, password }),
    });

  it("answers a wrong password and an unknown email identically, and rate-limits repeated attempts", async () => {
    const known = await attempt(email, "wrong-password-1");
    const unknown = await attempt("nobody-here@example.com", "wrong-password-1");
    expect(known.status).toBe(unknown.status);
    expect(await known.json()).toEqual(await unknown.json());
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) statuses.push((await attempt(email, `guess-${i}`)).status);
    expect(statuses).toContain(429);
    // Even the right password waits out the window: the limiter counts attempts, not failures.
    expect((await attempt(email, PASSWORD)).status).toBe(429);
  });
});
