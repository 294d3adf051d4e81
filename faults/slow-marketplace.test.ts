import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type AgentStack,
  agentCall,
  signInToAgent,
  startAgentStack,
  subscribeFree,
} from "../packages/agent-kit/test/support/stack.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const MARKETPLACE_PORT = 4503;
const PROXY_PORT = 4504;

describe("E.3 a slow or hung marketplace, seen from the agent", () => {
  let proxy: TcpProxy;
  let s: AgentStack;
  beforeAll(async () => {
    proxy = await new TcpProxy(MARKETPLACE_PORT, PROXY_PORT).start();
    // Every marketplace URL the agent knows (issuer, endpoints, API) goes through the proxy.
    s = await startAgentStack({
      marketplaceEnv: {
        MARKETPLACE_PORT: String(MARKETPLACE_PORT),
        MARKETPLACE_BASE_URL: `http://127.0.0.1:${PROXY_PORT}`,
      },
      kit: { requestTimeoutMs: 400, maxAttempts: 2 },
    });
  });
  afterAll(async () => {
    await s?.close();
    await proxy?.close();
  });

  it("chargeable actions fail closed within the budget, cached tier reads keep serving, and all recovers", {
    timeout: 60_000,
  }, async () => {
    const user = await signInToAgent(s);
    await subscribeFree(s, user.browser);
    expect((await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" })).status).toBe(200);
    expect((await agentCall(user.browser, `${s.agentUrl}/api/me/tier`)).body.tierName).toBe("Free");

    for (const fault of ["hang", "slow"] as const) {
      if (fault === "hang") proxy.hang();
      else proxy.delay(2_000);
      const started = performance.now();
      const chat = await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" });
      const ms = performance.now() - started;
      expect(chat.status, fault).toBe(503);
      expect(chat.body).toMatchObject({ error: "try_again" });
      expect(chat.body.answer).toBeUndefined(); // the handler never ran
      expect(ms).toBeLessThan(2 * 400 + 1_000);
      const tier = await agentCall(user.browser, `${s.agentUrl}/api/me/tier?refresh=true`);
      expect(tier.status, `${fault}: cached tier`).toBe(200);
      expect(tier.body.tierName).toBe("Free");
      proxy.restore();
    }
    const after = await agentCall(user.browser, `${s.agentUrl}/api/chat`, { method: "POST" });
    expect(after.status).toBe(200);
  });
});
