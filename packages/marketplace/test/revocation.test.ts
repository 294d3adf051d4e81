import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deactivateAgent } from "../src/catalog/service.ts";
import { user } from "../src/db/schema.ts";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  type DemoAgent,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";

/**
 * Revocation through the database's notifications (migrations/0006), on one
 * instance and on both drivers: whatever ends a token's validity evicts the
 * cached bearer entry at once. The cross-instance version is in multi-instance/.
 */
let t: TestMarketplace;
let agent: DemoAgent;

beforeAll(async () => {
  // A long cache TTL: only an eviction can explain a refusal within the test's second.
  t = await startTestMarketplace({ BEARER_CACHE_TTL_MS: "600000" });
  agent = await registerAgent(await adminBrowser(t), { messages: ["rolling", 100, 1000] });
});
afterAll(() => t?.close());

const readUsage = async (token: string) =>
  (await bearerCall(t.url, token, "GET", `/me/agents/${agent.id}/usage`)).status;
const consume = async (token: string) =>
  (
    await bearerCall(t.url, token, "POST", `/me/agents/${agent.id}/usage/messages/consume`, {
      delta: 1,
      clientReqId: randomUUID(),
    })
  ).status;
async function refusedWithin(ms: number, token: string) {
  const deadline = Date.now() + ms;
  while (Date.now() <= deadline) {
    if ((await readUsage(token)) === 401) return true;
    await sleep(20);
  }
  return false;
}
async function subscribedUser() {
  const who = await agentUser(t, agent);
  await subscribeFree(who, agent);
  expect(await consume(who.token)).toBe(200);
  expect(await readUsage(who.token)).toBe(200);
  return who;
}

describe("revocation evicts cached bearer tokens at once", () => {
  it("S.2d a marketplace sign-out ends that session's access tokens, cached or not", async () => {
    const who = await subscribedUser();
    const signOut = await who.browser.postJson("/api/auth/sign-out", {});
    expect(signOut.status).toBe(200);
    expect(await refusedWithin(1_000, who.token)).toBe(true);
    expect(await consume(who.token)).toBe(401);
  });

  it("S.2e a ban refuses the user's cached tokens at once, and nothing more is charged", async () => {
    const who = await subscribedUser();
    await t.mp.database.db.update(user).set({ banned: true }).where(eq(user.id, who.userId));
    expect(await refusedWithin(1_000, who.token)).toBe(true);
    expect(await consume(who.token)).toBe(401);
  });

  it("S.2f deactivating an agent refuses its cached tokens at once", async () => {
    const who = await subscribedUser();
    await deactivateAgent(t.mp.database.db, agent.id);
    expect(await refusedWithin(1_000, who.token)).toBe(true);
  });
});
