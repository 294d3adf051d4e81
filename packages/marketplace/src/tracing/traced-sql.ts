import type { SqlClient } from "@amp/db";
import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

// Looked up per use: a tracer taken before the SDK is (re)registered would keep the old one.
const tracer = () => trace.getTracer("@amp/marketplace");

/**
 * The SQL client with every query in a CLIENT span under the active one,
 * named by its prepared-statement name (a constant in code) or its first
 * keyword. Only the name and the operation are recorded: never the
 * parameters, which hold user ids and request ids.
 */
export function tracedSql(sql: SqlClient): SqlClient {
  return {
    query<R>(text: string, params?: unknown[], name?: string) {
      const operation = /^\s*(\w+)/.exec(text)?.[1]?.toUpperCase() ?? "QUERY";
      return tracer().startActiveSpan(
        name ?? operation,
        {
          kind: SpanKind.CLIENT,
          attributes: {
            "db.system": "postgresql",
            "db.system.name": "postgresql",
            "db.operation.name": operation,
            ...(name ? { "db.query.summary": name } : {}),
          },
        },
        async (span) => {
          try {
            return await sql.query<R>(text, params, name);
          } catch (error) {
            span.setStatus({
              code: SpanStatusCode.ERROR,
              message: (error as { code?: string }).code ?? "error",
            });
            throw error;
          } finally {
            span.end();
          }
        },
      );
    },
    withSession: (fn) => sql.withSession((session) => fn(tracedSql(session))),
  };
}
