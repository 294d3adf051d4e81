import { createClient } from "@redis/client";
import type { Logger } from "pino";
import type { RateLimitDecision, RateLimitRule, RateLimitStore } from "./store.ts";

/**
 * INCR and the window's expiry in one script, so the first hit of a window
 * sets its lifetime and no key is ever left without one. Returns the count
 * and the milliseconds left in the window.
 */
const CONSUME = `
local count = redis.call('INCR', KEYS[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
  ttl = tonumber(ARGV[1])
end
return {count, ttl}`;

/** How long a request waits for the first connection before the limiter gives up (fails closed). */
const CONNECT_WAIT_MS = 2_000;

/** Rate-limit counters in Redis (REDIS_URL); keys expire with their window, so nothing needs sweeping. */
export class RedisRateLimitStore implements RateLimitStore {
  private readonly client;
  private connecting: Promise<unknown> | undefined;

  constructor(
    url: string,
    private readonly keyPrefix: string,
    logger: Logger,
  ) {
    this.client = createClient({
      url,
      // While disconnected, fail at once instead of queueing (the caller refuses the request).
      disableOfflineQueue: true,
      socket: {
        connectTimeout: CONNECT_WAIT_MS,
        reconnectStrategy: (retries) => Math.min(100 * 2 ** retries, 5_000),
      },
    });
    this.client.on("error", (error: Error) =>
      logger.warn({ err: { message: error.message }, component: "rate-limit" }, "redis connection error"),
    );
  }

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    await this.ready();
    const windowMs = rule.window * 1000;
    const [count, ttl] = (await this.client.eval(CONSUME, {
      keys: [`${this.keyPrefix}rl:${key}`],
      arguments: [String(windowMs)],
    })) as [number, number];
    return count <= rule.max
      ? { allowed: true, retryAfter: null }
      : { allowed: false, retryAfter: Math.max(1, Math.ceil(ttl / 1000)) };
  }

  async close() {
    // A client still trying to connect is dropped, not waited for.
    if (this.client.isReady) await this.client.close();
    else if (this.client.isOpen) this.client.destroy();
  }

  private ready(): Promise<unknown> {
    if (this.client.isReady) return Promise.resolve();
    if (!this.connecting) {
      this.connecting = this.client.connect().catch((error: unknown) => {
        this.connecting = undefined;
        throw error;
      });
      // Observed by the race below; this keeps a late failure from being an unhandled rejection.
      this.connecting.catch(() => undefined);
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error("redis is not reachable")), CONNECT_WAIT_MS);
    });
    return Promise.race([this.connecting, timeout]).finally(() => clearTimeout(timer));
  }
}
