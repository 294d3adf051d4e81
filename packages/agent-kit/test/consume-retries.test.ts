import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MarketplaceUnavailableError, QuotaExceededError, SubscriptionRequiredError } from "../src/errors.ts";
import { AgentKit } from "../src/kit.ts";
import { type AgentStack, signInToAgent, startAgentStack, subscribeFree } from "./support/stack.ts";

let s: AgentStack;
beforeAll(async () => {
  s = await startAgentStack();
});
afterAll(() => s?.close());

/** A kit whose marketplace calls go through `wrap`, to drop responses or hang on purpose. */
async function kitWith(
  wrap: (url: string, init: RequestInit | undefined, real: typeof fetch) => Promise<Response>,
  extra = {},
) {
  const { issuer: _i, fetch: _f, ...options } = s.kit.options;
  return AgentKit.create({
    ...options,
    ...extra,
    fetch: ((url: string, init?: RequestInit) => wrap(String(url), init, fetch)) as typeof fetch,
  });
}

async function user(subscribe = true) {
  const u = await signInToAgent(s);
  if (subscribe) await subscribeFree(s, u.browser);
  return u.agentUserId;
}

async function ledgerRows(clientReqId: string) {
  const { rows } = await s.t.mp.database.sql.query(`SELECT * FROM "usage_ledger" WHERE "clientReqId" = $1`, [
    clientReqId,
  ]);
  return rows.length;
}

describe("consume retries", () => {
  it("a dropped response followed by a retry is charged once, with the same clientReqId", async () => {
    const userId = await user();
    const seen: string[] = [];
    let dropped = false;
    const kit = await kitWith(async (url, init, real) => {
      const response = await real(url, init);
      if (url.endsWith("/consume")) {
        seen.push(JSON.parse(String(init!.body)).clientReqId);
        if (!dropped) {
          dropped = true;
          throw new TypeError("fetch failed: socket hang up"); // the marketplace committed; the reply was lost
        }
      }
      return response;
    });
    const result = await kit.client(userId).consume("messages", 1);
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(result.used).toBe(1);
    expect(await ledgerRows(seen[0]!)).toBe(1);
  });

  it("503 is retried with the same id; 429, 402 and 404 are not retried", async () => {
    const userId = await user();
    let consumeCalls = 0;
    let fail503 = 1;
    const kit = await kitWith(async (url, init, real) => {
      if (url.endsWith("/consume")) {
        consumeCalls++;
        if (fail503-- > 0) return new Response(JSON.stringify({ error: "unavailable" }), { status: 503 });
      }
      return real(url, init);
    });
    const client = kit.client(userId);
    await client.consume("messages", 1);
    expect(consumeCalls).toBe(2);

    consumeCalls = 0;
    await expect(client.consume("messages", 1_000)).rejects.toBeInstanceOf(QuotaExceededError);
    expect(consumeCalls).toBe(1);
    consumeCalls = 0;
    await expect(client.consume("no-such-metric", 1)).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect(consumeCalls).toBe(1);
    const unsubscribed = await user(false);
    consumeCalls = 0;
    await expect(kit.client(unsubscribed).consume("messages", 1)).rejects.toBeInstanceOf(
      SubscriptionRequiredError,
    );
    expect(consumeCalls).toBe(1);
  });

  it("a hung marketplace fails closed within the configured budget", async () => {
    const userId = await user();
    const kit = await kitWith(
      async (url, init, real) =>
        url.endsWith("/consume")
          ? new Promise<Response>((_resolve, reject) =>
              init!.signal!.addEventListener("abort", () => reject(init!.signal!.reason)),
            )
          : real(url, init),
      { requestTimeoutMs: 200, maxAttempts: 3 },
    );
    const started = performance.now();
    await expect(
      kit.client(userId).consume("messages", 1, { clientReqId: randomUUID() }),
    ).rejects.toBeInstanceOf(MarketplaceUnavailableError);
    // 3 attempts × 200 ms plus at most ~300 ms of backoff.
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it("cached tier reads keep serving while the marketplace is down", async () => {
    const userId = await user();
    let down = false;
    const kit = await kitWith(
      async (url, init, real) => {
        if (down && url.includes("/me/subscriptions/")) throw new TypeError("fetch failed: ECONNREFUSED");
        return real(url, init);
      },
      { tierCacheMs: 1 },
    );
    const fresh = await kit.client(userId).getTier();
    down = true;
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect((await kit.client(userId).getTier({ refresh: true })).id).toBe(fresh.id);
  });
});
