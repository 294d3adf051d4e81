import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { SqlClient } from "../db/database.ts";
import { PostgresRateLimitStore } from "./postgres-store.ts";
import { RedisRateLimitStore } from "./redis-store.ts";

/** A budget: at most `max` requests per `window` seconds. */
export interface RateLimitRule {
  window: number;
  max: number;
}

export interface RateLimitDecision {
  allowed: boolean;
  /** Seconds until the window frees up, when refused. */
  retryAfter: number | null;
}

/**
 * Where rate-limit counters live. `consume` records one request and decides
 * in ONE atomic step on the shared store, so concurrent requests on any
 * number of instances cannot all pass a stale read. The shape is
 * better-auth's `rateLimit.customStorage`, so its limiter and ours share it.
 */
export interface RateLimitStore {
  consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision>;
  close(): Promise<void>;
}

/** Seconds a request is refused for when the store cannot be reached. */
const UNAVAILABLE_RETRY_AFTER = 5;

/**
 * The configured store: Redis when REDIS_URL is set, PostgreSQL otherwise.
 * A store that fails refuses the request (fail closed, logged): an outage
 * of the limiter must not become unlimited password guessing.
 */
export function openRateLimitStore(config: Config, sql: SqlClient, logger: Logger): RateLimitStore {
  const store = config.redis
    ? new RedisRateLimitStore(config.redis.url, config.redis.keyPrefix, logger)
    : new PostgresRateLimitStore(sql, logger);
  return {
    async consume(key, rule) {
      try {
        return await store.consume(key, rule);
      } catch (error) {
        logger.error({ err: error, component: "rate-limit" }, "rate-limit store unavailable; refusing");
        return { allowed: false, retryAfter: UNAVAILABLE_RETRY_AFTER };
      }
    },
    close: () => store.close(),
  };
}
