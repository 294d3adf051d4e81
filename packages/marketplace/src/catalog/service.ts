import { randomUUID } from "node:crypto";
import {
  AGENT_STATUS_TRANSITIONS,
  type AgentDto,
  AgentDtoSchema,
  type AgentInputSchema,
  type AgentPatchSchema,
  type AgentStatus,
} from "@amp/contract";
import { and, asc, eq, gt, inArray } from "drizzle-orm";
import type { z } from "zod";
import { recordAudit } from "../audit/log.ts";
import { createClient, syncClient } from "../clients/service.ts";
import type { Db } from "../db/database.ts";
import { agents } from "../db/schema.ts";
import { emit } from "../events/emit.ts";
import { ApiError } from "../http/api-error.ts";

type AgentRow = typeof agents.$inferSelect;
type AgentInput = z.output<typeof AgentInputSchema>;
type AgentPatch = z.output<typeof AgentPatchSchema>;

/** The contract's transition table (shared with the console). */
export const TRANSITIONS = AGENT_STATUS_TRANSITIONS;
/** Statuses the public catalog shows. */
export const LISTED: AgentStatus[] = ["active", "coming_soon"];

export function toAgentDto(row: AgentRow): AgentDto {
  return AgentDtoSchema.parse({
    ...row,
    publishedAt: row.publishedAt?.toISOString() ?? null,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  });
}

/**
 * Creates an agent and its OAuth client in one transaction (CONTRACT.md §2,
 * "Client provisioning"): public, PKCE, code + refresh, skipConsent, the
 * agent's redirect URIs mirrored.
 */
export async function createAgent(db: Db, input: AgentInput, createdBy: string | null) {
  return db.transaction(async (tx) => {
    await assertSlugFree(tx, input.slug);
    const client = await createClient(tx, {
      name: input.name,
      redirectUris: input.redirectUris,
      postLogoutRedirectUris: input.postLogoutRedirectUris,
      skipConsent: true,
    });
    const now = new Date();
    const [row] = await tx
      .insert(agents)
      .values({
        id: randomUUID(),
        ...input,
        oauthClientId: client.clientId,
        createdBy,
        publishedAt: input.status === "draft" ? null : now,
        createdAt: now,
        updatedAt: now,
      })
      .returning();
    if (input.status === "inactive") await syncClient(tx, client.clientId, { ...clientFields(row!) });
    await recordAudit(tx, { action: "agent.create", targetType: "agent", targetId: row!.id, after: row });
    return row!;
  });
}

/** Full update (`POST /agents/:id`): omitted optional fields take their defaults. */
export function updateAgent(db: Db, id: string, input: AgentInput) {
  return changeAgent(db, id, () => input);
}

/** Partial update (`PATCH /agents/:id`): only the fields sent change. */
export function patchAgent(db: Db, id: string, patch: AgentPatch) {
  return changeAgent(db, id, (current) => ({ ...current, ...patch }));
}

/**
 * Every change of an agent goes through here, in one transaction with the
 * row locked: the slug rule (immutable once published), the status rule
 * (TRANSITIONS), the OAuth client kept in step (disabled while inactive,
 * redirect URIs mirrored) and the audit row.
 */
async function changeAgent(db: Db, id: string, next: (current: AgentRow) => AgentInput | AgentRow) {
  return db.transaction(async (tx) => {
    const current = await findAgent(tx, id, true);
    const wanted = next(current);
    if (wanted.slug !== current.slug) {
      if (current.publishedAt) {
        throw new ApiError(
          "UNPROCESSABLE_ENTITY",
          `The slug of a published agent cannot change (it is "${current.slug}").`,
        );
      }
      await assertSlugFree(tx, wanted.slug);
    }
    if (!TRANSITIONS[current.status].includes(wanted.status)) {
      throw new ApiError(
        "UNPROCESSABLE_ENTITY",
        `An agent cannot move from ${current.status} to ${wanted.status}; allowed: ${TRANSITIONS[current.status].join(", ")}.`,
      );
    }
    const [row] = await tx
      .update(agents)
      .set({
        name: wanted.name,
        slug: wanted.slug,
        tagline: wanted.tagline,
        description: wanted.description,
        longDescription: wanted.longDescription,
        iconUrl: wanted.iconUrl,
        photoUrls: wanted.photoUrls,
        status: wanted.status,
        featured: wanted.featured,
        isNew: wanted.isNew,
        productDomain: wanted.productDomain,
        docsUrl: wanted.docsUrl,
        changelogUrl: wanted.changelogUrl,
        redirectUris: wanted.redirectUris,
        postLogoutRedirectUris: wanted.postLogoutRedirectUris,
        publishedAt: current.publishedAt ?? (wanted.status === "draft" ? null : new Date()),
        updatedAt: new Date(),
      })
      .where(eq(agents.id, id))
      .returning();
    await syncClient(tx, row!.oauthClientId, clientFields(row!));
    if (row!.status !== current.status) await emit(tx, { type: "agent.status_changed", agentId: id });
    await recordAudit(tx, {
      action: "agent.update",
      targetType: "agent",
      targetId: id,
      before: current,
      after: row,
    });
    return row!;
  });
}

/** Soft delete: the agent becomes `inactive` and its client stops working (authorize and refresh). */
export async function deactivateAgent(db: Db, id: string) {
  return db.transaction(async (tx) => {
    const current = await findAgent(tx, id, true);
    const [row] = await tx
      .update(agents)
      .set({ status: "inactive", updatedAt: new Date() })
      .where(eq(agents.id, id))
      .returning();
    // A disabled client can neither authorize nor refresh, and its access tokens stop passing bearer auth.
    await syncClient(tx, row!.oauthClientId, clientFields(row!));
    if (current.status !== "inactive") await emit(tx, { type: "agent.status_changed", agentId: id });
    await recordAudit(tx, {
      action: "agent.deactivate",
      targetType: "agent",
      targetId: id,
      before: current,
      after: row,
    });
    return row!;
  });
}

/** An agent by id; `forUpdate` locks the row for the caller's transaction (concurrent edits serialise). */
export async function findAgent(db: Db, id: string, forUpdate = false): Promise<AgentRow> {
  const query = db.select().from(agents).where(eq(agents.id, id)).limit(1);
  const [row] = forUpdate ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", "No such agent.");
  return row;
}

export async function findAgentBySlug(db: Db, slug: string, includeHidden: boolean): Promise<AgentRow> {
  const [row] = await db.select().from(agents).where(eq(agents.slug, slug)).limit(1);
  if (!row || (!includeHidden && !LISTED.includes(row.status)))
    throw new ApiError("NOT_FOUND", "No such agent.");
  return row;
}

export async function listAgents(db: Db, opts: { cursor?: string; limit: number; includeHidden: boolean }) {
  const rows = await db
    .select()
    .from(agents)
    .where(
      and(
        opts.includeHidden ? undefined : inArray(agents.status, LISTED),
        opts.cursor ? gt(agents.id, opts.cursor) : undefined,
      ),
    )
    .orderBy(asc(agents.id))
    .limit(opts.limit + 1);
  const page = rows.slice(0, opts.limit);
  const hasMore = rows.length > opts.limit;
  return {
    page,
    pagination: { cursor: hasMore ? (page.at(-1)?.id ?? null) : null, hasMore, limit: opts.limit },
  };
}

async function assertSlugFree(db: Db, slug: string) {
  const [taken] = await db.select({ id: agents.id }).from(agents).where(eq(agents.slug, slug)).limit(1);
  if (taken) throw new ApiError("CONFLICT", `The slug "${slug}" is already taken.`);
}

const clientFields = (row: AgentRow) => ({
  name: row.name,
  redirectUris: row.redirectUris,
  postLogoutRedirectUris: row.postLogoutRedirectUris,
  disabled: row.status === "inactive",
});
