import type { Logger } from "pino";
import type { SqlClient } from "../db/database.ts";
import type { RateLimitDecision, RateLimitRule, RateLimitStore } from "./store.ts";

/**
 * One statement per hit: a window starts at the first request for a key
 * and lasts `window` seconds (the database's clock, so instances agree);
 * an expired row restarts at 1. The count stops at max + 1, so refused
 * floods neither extend the window nor overflow.
 */
const CONSUME = `
  INSERT INTO "rate_limits" AS r ("key", "count", "expiresAt")
  VALUES ($1, 1, now() + make_interval(secs => $2::double precision))
  ON CONFLICT ("key") DO UPDATE SET
    "count" = CASE WHEN r."expiresAt" <= now() THEN 1 ELSE least(r."count" + 1, $3::int + 1) END,
    "expiresAt" = CASE WHEN r."expiresAt" <= now() THEN EXCLUDED."expiresAt" ELSE r."expiresAt" END
  RETURNING "count", ceil(extract(epoch FROM r."expiresAt" - now()))::int AS "retryAfter"`;

const SWEEP = `
  WITH swept AS (DELETE FROM "rate_limits" WHERE "expiresAt" < now() RETURNING 1)
  SELECT count(*)::int AS "swept" FROM swept`;

/** Rate-limit counters in PostgreSQL (migrations/0004_rate_limits.sql), shared by every instance. */
export class PostgresRateLimitStore implements RateLimitStore {
  private lastSweep = Date.now();
  private sweeping: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly sql: SqlClient,
    private readonly logger: Logger,
    /** Expired rows are deleted at most this often per instance, in the background of a hit. */
    private readonly sweepEveryMs = 60_000,
  ) {}

  async consume(key: string, rule: RateLimitRule): Promise<RateLimitDecision> {
    const { rows } = await this.sql.query<{ count: number; retryAfter: number }>(
      CONSUME,
      [key, rule.window, rule.max],
      "rate_limit_consume",
    );
    this.maybeSweep();
    const row = rows[0];
    if (!row) throw new Error("rate-limit upsert returned no row");
    return row.count <= rule.max
      ? { allowed: true, retryAfter: null }
      : { allowed: false, retryAfter: Math.max(1, row.retryAfter) };
  }

  /** Deletes expired counters; returns how many. */
  async sweep(): Promise<number> {
    const { rows } = await this.sql.query<{ swept: number }>(SWEEP);
    return rows[0]?.swept ?? 0;
  }

  async close() {
    await this.sweeping;
  }

  private maybeSweep() {
    const now = Date.now();
    if (now - this.lastSweep < this.sweepEveryMs) return;
    this.lastSweep = now;
    this.sweeping = this.sweep().catch((error) =>
      this.logger.warn({ err: error, component: "rate-limit" }, "sweeping expired rate limits failed"),
    );
  }
}
