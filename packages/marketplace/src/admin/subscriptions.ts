import {
  AddonDtoSchema,
  type AdminSubscriptionDetailDto,
  type AdminSubscriptionDto,
  type AdminUsageRowDto,
  type SubscriptionStatus,
} from "@amp/contract";
import { and, desc, eq, ilike, inArray, lt, or, type SQL } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import {
  agents,
  metricDefinitions,
  pricingTiers,
  subscriptionAddons,
  subscriptions,
  user,
} from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { LIVE, toSubscriptionDto } from "../subscriptions/service.ts";
import type { UsageService } from "../usage/service.ts";
import { escapeLike } from "./search.ts";

export interface SubscriptionSearch {
  email?: string;
  agentId?: string;
  status?: SubscriptionStatus;
  live?: "true" | "false";
  cursor?: string;
  limit: number;
}

/**
 * Keyset cursor over (createdAt desc, id desc): newest first, stable under
 * inserts. Opaque to clients; a malformed one is a 400.
 */
const encodeCursor = (row: { createdAt: Date; id: string }) =>
  Buffer.from(`${row.createdAt.toISOString()}|${row.id}`).toString("base64url");
function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  const [at, id] = Buffer.from(cursor, "base64url").toString().split("|");
  const createdAt = new Date(at ?? "");
  if (!id || Number.isNaN(createdAt.getTime()))
    throw new ApiError("BAD_REQUEST", "The cursor is not one this endpoint returned.");
  return { createdAt, id };
}

const joined = (db: Db) =>
  db
    .select({ s: subscriptions, t: pricingTiers, u: user, a: agents })
    .from(subscriptions)
    .innerJoin(pricingTiers, eq(pricingTiers.id, subscriptions.tierId))
    .innerJoin(user, eq(user.id, subscriptions.userId))
    .innerJoin(agents, eq(agents.id, subscriptions.agentId));
type Joined = Awaited<ReturnType<ReturnType<typeof joined>["limit"]>>[number];

const toAdminDto = ({ s, t, u, a }: Joined): AdminSubscriptionDto => ({
  ...toSubscriptionDto(s, t),
  userId: s.userId,
  user: { id: u.id, email: u.email, name: u.name },
  agent: { id: a.id, slug: a.slug, name: a.name },
});

/** Subscriptions across every user: by subscriber email (substring), agent, status; newest first. */
export async function searchSubscriptions(db: Db, q: SubscriptionSearch) {
  const after = q.cursor ? decodeCursor(q.cursor) : null;
  const where: (SQL | undefined)[] = [
    q.email ? ilike(user.email, `%${escapeLike(q.email)}%`) : undefined,
    q.agentId ? eq(subscriptions.agentId, q.agentId) : undefined,
    q.status ? eq(subscriptions.status, q.status) : undefined,
    q.live === "true" ? inArray(subscriptions.status, LIVE) : undefined,
    after
      ? or(
          lt(subscriptions.createdAt, after.createdAt),
          and(eq(subscriptions.createdAt, after.createdAt), lt(subscriptions.id, after.id)),
        )
      : undefined,
  ];
  const rows = await joined(db)
    .where(and(...where))
    .orderBy(desc(subscriptions.createdAt), desc(subscriptions.id))
    .limit(q.limit + 1);
  const page = rows.slice(0, q.limit);
  const hasMore = rows.length > q.limit;
  const last = page.at(-1)?.s;
  return {
    rows: page,
    page: page.map(toAdminDto),
    pagination: { cursor: hasMore && last ? encodeCursor(last) : null, hasMore, limit: q.limit },
  };
}

/** One subscription with its addons and, while live, its usage per metric. */
export async function subscriptionDetail(
  db: Db,
  usage: UsageService,
  id: string,
): Promise<AdminSubscriptionDetailDto> {
  const [row] = await joined(db).where(eq(subscriptions.id, id)).limit(1);
  if (!row) throw new ApiError("NOT_FOUND", "No such subscription.");
  const addons = await db
    .select({ addon: subscriptionAddons, metricSlug: metricDefinitions.slug })
    .from(subscriptionAddons)
    .innerJoin(metricDefinitions, eq(metricDefinitions.id, subscriptionAddons.metricId))
    .where(eq(subscriptionAddons.subscriptionId, id))
    .orderBy(desc(subscriptionAddons.createdAt));
  return {
    ...toAdminDto(row),
    addons: addons.map(({ addon, metricSlug }) =>
      AddonDtoSchema.parse({
        ...addon,
        metricSlug,
        expiresAt: addon.expiresAt?.toISOString() ?? null,
        revokedAt: addon.revokedAt?.toISOString() ?? null,
        createdAt: addon.createdAt.toISOString(),
      }),
    ),
    usage: LIVE.includes(row.s.status) ? await usage.usage(row.s.userId, row.s.agentId) : null,
  };
}

/** Usage across users: live subscriptions (searchable like subscriptions), each with its usage per metric. */
export async function searchUsage(
  db: Db,
  usage: UsageService,
  q: Omit<SubscriptionSearch, "status" | "live">,
): Promise<{
  page: AdminUsageRowDto[];
  pagination: { cursor: string | null; hasMore: boolean; limit: number };
}> {
  const { rows, pagination } = await searchSubscriptions(db, { ...q, live: "true" });
  const page: AdminUsageRowDto[] = [];
  for (const { s, t, u, a } of rows) {
    page.push({
      subscriptionId: s.id,
      user: { id: u.id, email: u.email, name: u.name },
      agent: { id: a.id, slug: a.slug, name: a.name },
      tier: { id: t.id, tierName: t.tierName },
      usage: await usage.usage(s.userId, s.agentId),
    });
  }
  return { page, pagination };
}
