import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { asOperator } from "../src/audit/context.ts";
import { ensureDemoWebhook, seedDemo } from "../src/demo/seed.ts";
import { listEndpoints } from "../src/events/service.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";

const AGENT_ORIGIN = "http://localhost:3001";
let t: TestMarketplace;
let agentId: string;

beforeAll(async () => {
  t = await startTestMarketplace();
  const { agent } = await asOperator(() =>
    seedDemo(t.mp.auth, t.mp.database.db, { agentOrigin: AGENT_ORIGIN, devCheckout: true }),
  );
  agentId = agent.id;
});
afterAll(() => t?.close());

describe("serve --seed-demo: the demo agent's webhook endpoint", () => {
  it("is registered at agent-kit's default path once; a restart hands the agent the same secret", async () => {
    const db = t.mp.database.db;
    const first = await asOperator(() => ensureDemoWebhook(db, agentId, AGENT_ORIGIN, false));
    expect(first.url).toBe(`${AGENT_ORIGIN}/api/marketplace/webhooks`);
    expect(first.secret).toMatch(/^whsec_/);
    const again = await asOperator(() => ensureDemoWebhook(db, agentId, AGENT_ORIGIN, false));
    expect(again).toEqual(first);
    expect((await listEndpoints(db, agentId)).map((e) => e.url)).toEqual([first.url]);
  });

  it("a deployment refuses an http agent origin (the endpoint rules apply to the demo too)", async () => {
    await expect(
      asOperator(() => ensureDemoWebhook(t.mp.database.db, agentId, "http://example.com", true)),
    ).rejects.toThrow();
  });
});
