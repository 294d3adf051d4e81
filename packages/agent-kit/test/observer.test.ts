import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketplaceUnavailableError } from "../src/errors.ts";
import { AgentKit } from "../src/kit.ts";
import type { MarketplaceCallEvent, MarketplaceObserver } from "../src/observer.ts";
import { type AgentStack, signInToAgent, startAgentStack, subscribeFree } from "./support/stack.ts";

let s: AgentStack;
beforeAll(async () => {
  s = await startAgentStack();
});
afterAll(() => s?.close());

/** A kit that reports to a recording observer, its marketplace calls going through `wrap`. */
async function observedKit(
  wrap: (url: string, init: RequestInit | undefined, real: typeof fetch) => Promise<Response>,
  extra = {},
) {
  const seen = { calls: [] as MarketplaceCallEvent[], retries: [] as unknown[], tier: [] as string[] };
  const observer: MarketplaceObserver = {
    call: (e) => seen.calls.push(e),
    retry: (e) => seen.retries.push(e),
    tierCache: (result) => seen.tier.push(result),
  };
  const { issuer: _i, fetch: _f, ...options } = s.kit.options;
  const kit = await AgentKit.create({
    ...options,
    ...extra,
    observer,
    fetch: ((url: string, init?: RequestInit) => wrap(String(url), init, fetch)) as typeof fetch,
  });
  return { kit, seen };
}

describe("the marketplace observer (metrics hook)", () => {
  it("reports one call per logical call with its attempts, status and duration, and each retry", async () => {
    const u = await signInToAgent(s);
    await subscribeFree(s, u.browser);
    let dropped = false;
    const { kit, seen } = await observedKit(async (url, init, real) => {
      const response = await real(url, init);
      if (url.endsWith("/consume") && !dropped) {
        dropped = true;
        throw new TypeError("fetch failed: socket hang up");
      }
      return response;
    });
    await kit.client(u.agentUserId).consume("messages", 1);
    expect(seen.retries).toEqual([{ operation: "consume", reason: "network_error" }]);
    expect(seen.calls).toHaveLength(1);
    expect(seen.calls[0]).toMatchObject({ operation: "consume", status: 200, attempts: 2 });
    expect(seen.calls[0]!.seconds).toBeGreaterThan(0);
  });

  it("reports a call that never got an answer as no_response", async () => {
    const u = await signInToAgent(s);
    const { kit, seen } = await observedKit(
      async (url, init, real) => {
        if (url.includes("/usage")) throw new TypeError("fetch failed: connection refused");
        return real(url, init);
      },
      { maxAttempts: 2 },
    );
    await expect(kit.client(u.agentUserId).getUsage()).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    expect(seen.calls).toMatchObject([{ operation: "usage", status: "no_response", attempts: 2 }]);
    expect(seen.retries).toEqual([{ operation: "usage", reason: "network_error" }]);
  });

  it("reports tier-cache misses, hits and stale answers during an outage", async () => {
    const u = await signInToAgent(s);
    await subscribeFree(s, u.browser);
    let down = false;
    const { kit, seen } = await observedKit(
      async (url, init, real) => {
        if (down) throw new TypeError("fetch failed: connection refused");
        return real(url, init);
      },
      { maxAttempts: 1, tierCacheMs: 60_000 },
    );
    const client = kit.client(u.agentUserId);
    await client.getTier();
    await client.getTier();
    down = true;
    await client.getTier({ refresh: true });
    expect(seen.tier).toEqual(["miss", "hit", "stale"]);
  });
});
