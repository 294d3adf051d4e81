import { randomUUID } from "node:crypto";
import { and, desc, eq, sql } from "drizzle-orm";
import { z } from "zod";
import { recordAudit } from "../audit/log.ts";
import { findAgent } from "../catalog/service.ts";
import type { Db } from "../db/database.ts";
import { webhookDeliveries, webhookEndpoints, webhookEvents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { OUTBOX_CHANNEL } from "./emit.ts";
import { newSecret } from "./signing.ts";

type EndpointRow = typeof webhookEndpoints.$inferSelect;

const LOCAL_HOSTS = ["localhost", "127.0.0.1", "[::1]"];
/** The longest overlap a rotation may keep the previous secret signing. */
export const MAX_OVERLAP_SECONDS = 7 * 86_400;
export const DEFAULT_OVERLAP_SECONDS = 86_400;

export const EndpointInputSchema = z.object({
  url: z.url().max(2048),
  description: z.string().max(500).optional(),
});
export const RotateInputSchema = z.object({
  /** How long the previous secret keeps signing next to the new one. */
  overlapSeconds: z.number().int().min(0).max(MAX_OVERLAP_SECONDS).default(DEFAULT_OVERLAP_SECONDS),
});

export const EndpointDtoSchema = z.object({
  id: z.string(),
  agentId: z.string(),
  url: z.string(),
  description: z.string().nullable(),
  /** When the previous secret stops signing; null when no rotation overlap is running. */
  previousSecretExpiresAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
/** Creation and rotation answer the secret, once; it is never readable again. */
export const EndpointWithSecretDtoSchema = EndpointDtoSchema.extend({ secret: z.string() });
export const DeliveryDtoSchema = z.object({
  id: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  sequence: z.number(),
  userId: z.string().nullable(),
  status: z.enum(["pending", "delivered", "failed"]),
  attempts: z.number(),
  lastStatusCode: z.number().nullable(),
  lastError: z.string().nullable(),
  lastAttemptAt: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
});

const iso = (d: Date | null) => d?.toISOString() ?? null;

export const toEndpointDto = (row: EndpointRow, now = new Date()): z.infer<typeof EndpointDtoSchema> => ({
  id: row.id,
  agentId: row.agentId,
  url: row.url,
  description: row.description,
  previousSecretExpiresAt:
    row.previousSecretExpiresAt && row.previousSecretExpiresAt > now
      ? iso(row.previousSecretExpiresAt)
      : null,
  createdAt: row.createdAt.toISOString(),
  updatedAt: row.updatedAt.toISOString(),
});

/** What the audit log keeps of an endpoint: never a secret. */
const audited = (row: EndpointRow) => toEndpointDto(row);

/** https only in a deployment; plain http only to this machine, and only in development. */
export function assertEndpointUrl(raw: string, deployed: boolean) {
  const url = new URL(raw);
  const local = LOCAL_HOSTS.includes(url.hostname);
  if (url.protocol === "https:") return;
  if (url.protocol === "http:" && local && !deployed) return;
  throw new ApiError(
    "UNPROCESSABLE_ENTITY",
    deployed
      ? "A webhook endpoint must be an https URL."
      : "A webhook endpoint must be an https URL (or http://localhost in development).",
    { reason: "INVALID_WEBHOOK_URL" },
  );
}

export async function createEndpoint(
  db: Db,
  agentId: string,
  input: z.infer<typeof EndpointInputSchema>,
  deployed: boolean,
) {
  assertEndpointUrl(input.url, deployed);
  await findAgent(db, agentId);
  return db.transaction(async (tx) => {
    const [clash] = await tx
      .select({ id: webhookEndpoints.id })
      .from(webhookEndpoints)
      .where(and(eq(webhookEndpoints.agentId, agentId), eq(webhookEndpoints.url, input.url)));
    if (clash) throw new ApiError("CONFLICT", "This agent already has an endpoint with that URL.");
    const [row] = await tx
      .insert(webhookEndpoints)
      .values({
        id: `we_${randomUUID().replaceAll("-", "")}`,
        agentId,
        url: input.url,
        description: input.description ?? null,
        secret: newSecret(),
      })
      .returning();
    await recordAudit(tx, {
      action: "webhook_endpoint.create",
      targetType: "webhook_endpoint",
      targetId: row!.id,
      after: audited(row!),
    });
    return { ...toEndpointDto(row!), secret: row!.secret };
  });
}

export async function listEndpoints(db: Db, agentId: string) {
  await findAgent(db, agentId);
  const rows = await db
    .select()
    .from(webhookEndpoints)
    .where(eq(webhookEndpoints.agentId, agentId))
    .orderBy(webhookEndpoints.createdAt);
  return rows.map((row) => toEndpointDto(row));
}

async function findEndpoint(db: Db, agentId: string, endpointId: string, lock = false) {
  const query = db
    .select()
    .from(webhookEndpoints)
    .where(and(eq(webhookEndpoints.id, endpointId), eq(webhookEndpoints.agentId, agentId)));
  const [row] = lock ? await query.for("update") : await query;
  if (!row) throw new ApiError("NOT_FOUND", "No such webhook endpoint for this agent.");
  return row;
}

/** A new secret; the previous one keeps signing for `overlapSeconds` so receivers can switch over. */
export async function rotateSecret(
  db: Db,
  agentId: string,
  endpointId: string,
  input: z.infer<typeof RotateInputSchema>,
) {
  return db.transaction(async (tx) => {
    const before = await findEndpoint(tx, agentId, endpointId, true);
    const now = new Date();
    const [row] = await tx
      .update(webhookEndpoints)
      .set({
        secret: newSecret(),
        previousSecret: input.overlapSeconds > 0 ? before.secret : null,
        previousSecretExpiresAt:
          input.overlapSeconds > 0 ? new Date(now.getTime() + input.overlapSeconds * 1000) : null,
        updatedAt: now,
      })
      .where(eq(webhookEndpoints.id, endpointId))
      .returning();
    await recordAudit(tx, {
      action: "webhook_endpoint.rotate_secret",
      targetType: "webhook_endpoint",
      targetId: endpointId,
      before: audited(before),
      after: audited(row!),
    });
    return { ...toEndpointDto(row!), secret: row!.secret };
  });
}

/** Deletes the endpoint and its delivery log; queued jobs for it find nothing and finish. */
export async function deleteEndpoint(db: Db, agentId: string, endpointId: string) {
  await db.transaction(async (tx) => {
    const before = await findEndpoint(tx, agentId, endpointId, true);
    await tx.delete(webhookEndpoints).where(eq(webhookEndpoints.id, endpointId));
    await recordAudit(tx, {
      action: "webhook_endpoint.delete",
      targetType: "webhook_endpoint",
      targetId: endpointId,
      before: audited(before),
    });
  });
}

/** The delivery log of one endpoint, newest first, at most `limit` rows. */
export async function listDeliveries(
  db: Db,
  agentId: string,
  endpointId: string,
  opts: { limit: number; status?: "pending" | "delivered" | "failed" },
) {
  await findEndpoint(db, agentId, endpointId);
  const rows = await db
    .select({ d: webhookDeliveries, e: webhookEvents })
    .from(webhookDeliveries)
    .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
    .where(
      and(
        eq(webhookDeliveries.endpointId, endpointId),
        opts.status ? eq(webhookDeliveries.status, opts.status) : undefined,
      ),
    )
    .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
    .limit(opts.limit);
  return rows.map(({ d, e }) => ({
    id: d.id,
    eventId: e.id,
    eventType: e.type,
    sequence: e.sequence,
    userId: e.userId,
    status: d.status,
    attempts: d.attempts,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastAttemptAt: iso(d.lastAttemptAt),
    deliveredAt: iso(d.deliveredAt),
    createdAt: d.createdAt.toISOString(),
  }));
}

/**
 * Replay: puts deliveries back in the outbox (no job, pending) in one transaction and wakes the
 * relays, which queue them again; the same event id and body go out. `"failed"` takes every
 * delivery of the endpoint that gave up (at most 1,000, oldest first). Works from the CLI too:
 * the running marketplace picks them up.
 */
export async function replay(db: Db, agentId: string, endpointId: string, which: string | "failed") {
  await findEndpoint(db, agentId, endpointId);
  return db.transaction(async (tx) => {
    const targets =
      which === "failed"
        ? (
            await tx
              .select({ id: webhookDeliveries.id })
              .from(webhookDeliveries)
              .where(
                and(eq(webhookDeliveries.endpointId, endpointId), eq(webhookDeliveries.status, "failed")),
              )
              .orderBy(webhookDeliveries.createdAt)
              .limit(1_000)
          ).map((r) => r.id)
        : [which];
    const replayed: string[] = [];
    for (const id of targets) {
      const [row] = await tx
        .update(webhookDeliveries)
        .set({ jobId: null, status: "pending" })
        .where(and(eq(webhookDeliveries.id, id), eq(webhookDeliveries.endpointId, endpointId)))
        .returning({ id: webhookDeliveries.id });
      if (!row && which !== "failed") throw new ApiError("NOT_FOUND", "No such delivery for this endpoint.");
      if (row) replayed.push(row.id);
    }
    if (replayed.length) await tx.execute(sql`SELECT pg_notify(${OUTBOX_CHANNEL}, '')`);
    await recordAudit(tx, {
      action: "webhook_delivery.replay",
      targetType: "webhook_endpoint",
      targetId: endpointId,
      after: { replayed },
    });
    return replayed;
  });
}
