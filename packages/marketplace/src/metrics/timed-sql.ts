import type { SqlClient } from "@amp/db";
import type { MarketplaceMetrics } from "./registry.ts";

/**
 * The SQL client with every query timed, labelled by its prepared-statement
 * name (a constant in code, so bounded) or `other`. Wraps the hot path's
 * client (usage/service.ts) rather than the driver: cheap, and no SQL text
 * ever becomes a label.
 */
export function timedSql(sql: SqlClient, metrics: Pick<MarketplaceMetrics, "queryDuration">): SqlClient {
  const timed: SqlClient = {
    async query(text, params, name) {
      const stop = metrics.queryDuration.startTimer({ statement: name ?? "other" });
      try {
        return await sql.query(text, params, name);
      } finally {
        stop();
      }
    },
    withSession: (fn) => sql.withSession((session) => fn(timedSql(session, metrics))),
  };
  return timed;
}
