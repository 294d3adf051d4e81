import { AuditEntryDtoSchema, AuditQuerySchema } from "@amp/contract";
import { and, desc, eq, gte, like, lt, type SQL } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../db/database.ts";
import { auditLog } from "../db/schema.ts";
import { ok } from "../http/envelope.ts";
import { apiRouter, declare } from "../http/route.ts";

/** `GET /admin/audit`: the audit log, newest first, filtered and cursor-paginated by id. */
export function auditRoutes(db: Db) {
  const api = apiRouter();
  api.openapi(
    declare({
      tag: "Admin",
      method: "get",
      path: "/admin/audit",
      summary: "The audit log (who changed what), newest first",
      access: "admin",
      query: AuditQuerySchema,
      response: z.array(AuditEntryDtoSchema),
    }),
    async (c) => {
      const q = c.req.valid("query");
      const where: (SQL | undefined)[] = [
        q.actor ? eq(auditLog.actorId, q.actor) : undefined,
        q.action?.endsWith(".*")
          ? like(auditLog.action, `${escapeLike(q.action.slice(0, -1))}%`)
          : q.action
            ? eq(auditLog.action, q.action)
            : undefined,
        q.targetType ? eq(auditLog.targetType, q.targetType) : undefined,
        q.targetId ? eq(auditLog.targetId, q.targetId) : undefined,
        q.since ? gte(auditLog.at, new Date(q.since)) : undefined,
        q.until ? lt(auditLog.at, new Date(q.until)) : undefined,
        q.cursor ? lt(auditLog.id, Number(q.cursor)) : undefined,
      ];
      const rows = await db
        .select()
        .from(auditLog)
        .where(and(...where))
        .orderBy(desc(auditLog.id))
        .limit(q.limit + 1);
      const page = rows.slice(0, q.limit);
      const hasMore = rows.length > q.limit;
      return ok(
        c,
        page.map((row) =>
          AuditEntryDtoSchema.parse({ ...row, id: String(row.id), at: row.at.toISOString() }),
        ),
        200,
        { cursor: hasMore ? String(page.at(-1)!.id) : null, hasMore, limit: q.limit },
      );
    },
  );
  return api;
}

const escapeLike = (value: string) => value.replace(/[\\%_]/g, (ch) => `\\${ch}`);
