import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OPERATIONS } from "../src/openapi/document.ts";
import { adminBrowser, call } from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import type { Browser } from "./support/oauth.ts";

let t: TestMarketplace;
let admin: Browser;
beforeAll(async () => {
  t = await startTestMarketplace();
  admin = await adminBrowser(t);
});
afterAll(() => t?.close());

describe("API documentation", () => {
  it("/openapi.json documents every operation with its request and response schemas", async () => {
    const doc = await (await fetch(`${t.url}/openapi.json`)).json();
    expect(doc.openapi).toBe("3.1.0");
    for (const op of OPERATIONS) {
      const entry = doc.paths[op.path][op.method];
      expect(entry, `${op.method} ${op.path}`).toBeDefined();
      if (op.body) expect(entry.requestBody.content["application/json"].schema).toBeTypeOf("object");
    }
    const consume = doc.paths["/me/agents/{agentId}/usage/{metricSlug}/consume"].post;
    expect(consume.requestBody.content["application/json"].schema.required).toEqual(
      expect.arrayContaining(["delta", "clientReqId"]),
    );
    expect(Object.keys(consume.responses)).toEqual(expect.arrayContaining(["200", "402", "404", "429"]));
  });

  it("every documented operation is actually routed (no 'No route for' 404)", async () => {
    for (const op of OPERATIONS) {
      const path = op.path.replace(/\{\w+\}/g, "00000000-0000-0000-0000-000000000000");
      const response = await call(
        admin,
        op.method.toUpperCase(),
        path,
        op.method === "get" || op.method === "delete" ? undefined : {},
      );
      const message = response.body.error?.message ?? "";
      expect(message.startsWith("No route for"), `${op.method} ${op.path}`).toBe(false);
    }
  });

  it("/docs is a browsable reference", async () => {
    const html = await (await fetch(`${t.url}/docs`)).text();
    expect(html).toContain("POST /me/agents/{agentId}/usage/{metricSlug}/consume");
    expect(html).toContain("/openapi.json");
  });
});
