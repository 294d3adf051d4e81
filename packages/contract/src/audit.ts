import { z } from "zod";

/** Who acted: a user (their session or JWT), an admin client's token, the operator CLI, the system, or nobody known. */
export const AuditActorKindSchema = z.enum(["user", "admin_token", "cli", "system", "anonymous"]);

/** One audit log row (`GET /admin/audit`). `before`/`after` are the changed record as stored, or null. */
export const AuditEntryDtoSchema = z.object({
  id: z.string(),
  at: z.iso.datetime({ offset: true }),
  actorId: z.string().nullable(),
  actorKind: AuditActorKindSchema,
  action: z.string(),
  targetType: z.string(),
  targetId: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  requestId: z.string().nullable(),
});
export type AuditEntryDto = z.infer<typeof AuditEntryDtoSchema>;

const filter = z.string().min(1).max(200).optional();

/** Filters of `GET /admin/audit`; newest first, `cursor` is the last id of the previous page. */
export const AuditQuerySchema = z.strictObject({
  actor: filter.describe("Actor id: a user id, or `cli`"),
  action: filter.describe("Exact action, e.g. `agent.update`; `agent.*` matches a prefix"),
  targetType: filter,
  targetId: filter,
  since: z.iso.datetime({ offset: true }).optional().describe("Inclusive lower bound on `at`"),
  until: z.iso.datetime({ offset: true }).optional().describe("Exclusive upper bound on `at`"),
  cursor: z
    .string()
    .regex(/^\d{1,18}$/, "must be an id from a previous page")
    .optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});
