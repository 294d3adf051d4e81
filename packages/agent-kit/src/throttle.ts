import type { SqlClient } from "@amp/db";

export interface ThrottleVerdict {
  allowed: boolean;
  /** Seconds until the current window ends (for `Retry-After`). */
  retryAfter: number;
}

/**
 * A fixed-window counter per key in PostgreSQL: one atomic upsert per hit, so the limit holds across every
 * process sharing the agent's database (a per-process counter would multiply it by the process count).
 */
export class Throttle {
  private hits = 0;

  constructor(
    private readonly sql: SqlClient,
    private readonly limit: { max: number; windowSeconds: number },
  ) {}

  async hit(key: string): Promise<ThrottleVerdict> {
    const { rows } = await this.sql.query<{ count: number; retryAfter: number }>(
      `INSERT INTO "agent_kit_throttle" AS t ("key", "windowStart", "count")
       VALUES ($1, to_timestamp(floor(extract(epoch FROM now()) / $2) * $2), 1)
       ON CONFLICT ("key") DO UPDATE SET
         "count" = CASE WHEN t."windowStart" = EXCLUDED."windowStart" THEN t."count" + 1 ELSE 1 END,
         "windowStart" = EXCLUDED."windowStart"
       RETURNING "count", ceil(extract(epoch FROM "windowStart") + $2 - extract(epoch FROM now()))::int AS "retryAfter"`,
      [key, this.limit.windowSeconds],
    );
    // Now and then, forget windows that ended (one statement, no background timer to manage).
    if (++this.hits % 500 === 0) {
      await this.sql.query(
        `DELETE FROM "agent_kit_throttle" WHERE "windowStart" < now() - make_interval(secs => $1)`,
        [this.limit.windowSeconds],
      );
    }
    const row = rows[0]!;
    return { allowed: row.count <= this.limit.max, retryAfter: Math.max(1, row.retryAfter) };
  }
}
