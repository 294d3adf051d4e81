import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type OpenApiDocument, operationsOf } from "../src/openapi/document.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";

let t: TestMarketplace;
let document: OpenApiDocument;
beforeAll(async () => {
  t = await startTestMarketplace();
  document = await (await fetch(`${t.url}/openapi.json`)).json();
});
afterAll(() => t?.close());

describe("API documentation", () => {
  it("/openapi.json is generated from the declared routes, with request and response schemas", async () => {
    expect(document.openapi).toBe("3.1.0");
    const operations = operationsOf(document);
    expect(operations.length).toBeGreaterThanOrEqual(24);
    const consume = document.paths?.["/me/agents/{agentId}/usage/{metricSlug}/consume"]?.post;
    const body = consume?.requestBody as { content: Record<string, { schema: { required: string[] } }> };
    expect(body.content["application/json"]?.schema.required).toEqual(
      expect.arrayContaining(["delta", "clientReqId"]),
    );
    expect(Object.keys(consume?.responses ?? {})).toEqual(
      expect.arrayContaining(["200", "401", "402", "403", "404", "429"]),
    );
    expect(consume?.security).toEqual([{ agentToken: [] }]);
    expect(document.components?.securitySchemes).toHaveProperty("adminToken");
  });

  it("every operation declares its access rule and security requirement", () => {
    for (const op of operationsOf(document)) {
      expect(op.access, `${op.method} ${op.path}`).toMatch(
        /^(public|user|userOrOwnAgent|ownAgent|userOrAnyAgent|admin)$/,
      );
      expect(op.operation.security, `${op.method} ${op.path}`).toBeDefined();
    }
  });

  it("/docs is a browsable reference", async () => {
    const html = await (await fetch(`${t.url}/docs`)).text();
    expect(html).toContain("POST /me/agents/{agentId}/usage/{metricSlug}/consume");
    expect(html).toContain("/openapi.json");
  });
});
