import type { ConsumeBody, MetricUsageDto, ReleaseBody, UsageResultDto } from "@amp/contract";
import { eq } from "drizzle-orm";
import type { Db, SqlClient } from "../db/database.ts";
import { agents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { settlePeriodEnds } from "../subscriptions/period-end.ts";
import { GroupCommit } from "./group-commit.ts";

interface UsageRow {
  outcome:
    | "ok"
    | "replay"
    | "conflict"
    | "no_subscription"
    | "metric_not_found"
    | "quota_exceeded"
    | "rolling_metric"
    | "token_revoked";
  kind: "fixed" | "rolling" | null;
  used: string | number | bigint | null;
  effective_quota: string | number | bigint | null;
  resets_at: Date | string | null;
}

export interface UsageCall {
  userId: string;
  agentId: string;
  metricSlug: string;
  /** The caller's opaque access token (hashed): checked in the same transaction that charges. */
  tokenHash?: string;
}

export interface UsageOutcome {
  result: UsageResultDto;
  replayed: boolean;
}

const num = (v: string | number | bigint | null) => (v === null ? null : Number(v));
const iso = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

/** One consume or release waiting for its batch. */
interface Pending {
  call: UsageCall;
  delta: number;
  clientReqId: string;
  /** Consume only: the metadata as JSON text, or null. */
  metadata: string | null;
}

export interface UsageServiceOptions {
  /** Largest group commit (items per transaction). */
  maxBatch?: number;
  /** Batches running at once, per operation; keep it below the pool size (other routes need connections). */
  maxInFlight?: number;
  /** Observes every unit the group commit runs (metrics). */
  onRun?(operation: "consume" | "release", size: number, failed: boolean): void;
}

/**
 * Usage metering (CONTRACT.md §7). A consume or release is one call of a plpgsql function
 * (migrations/0003, 0005, 0006) that checks token, subscription, metric and quota and writes counter
 * and ledger atomically. Calls that arrive while others are in flight are group-committed
 * (group-commit.ts): many items in one statement, one transaction, one commit
 * (migrations/0013_usage_batch.sql), each answered with exactly its outcome alone.
 */
export class UsageService {
  private readonly consumes: GroupCommit<Pending, UsageRow>;
  private readonly releases: GroupCommit<Pending, UsageRow>;

  constructor(
    private readonly sql: SqlClient,
    private readonly db: Db,
    private readonly baseUrl: string,
    options: UsageServiceOptions = {},
  ) {
    const maxBatch = options.maxBatch ?? 256;
    const maxInFlight = options.maxInFlight ?? 4;
    this.consumes = new GroupCommit({
      maxBatch,
      maxInFlight,
      runOne: (p) => this.consumeOne(p),
      runBatch: (items) => this.runBatch("consume", items),
      onRun: (size, failed) => options.onRun?.("consume", size, failed),
    });
    this.releases = new GroupCommit({
      maxBatch,
      maxInFlight,
      runOne: (p) => this.releaseOne(p),
      runBatch: (items) => this.runBatch("release", items),
      onRun: (size, failed) => options.onRun?.("release", size, failed),
    });
  }

  /** Consumes and releases waiting for a batch slot right now. */
  get queued(): number {
    return this.consumes.queued + this.releases.queued;
  }

  async consume(call: UsageCall, body: ConsumeBody): Promise<UsageOutcome> {
    const metadata = body.metadata ? JSON.stringify(body.metadata) : null;
    const pending = { call, delta: body.delta, clientReqId: body.clientReqId, metadata };
    return this.settle(call, body, await this.afterPeriodEnd(call, () => this.consumes.submit(pending)));
  }

  async release(call: UsageCall, body: ReleaseBody): Promise<UsageOutcome> {
    const pending = { call, delta: body.delta, clientReqId: body.clientReqId, metadata: null };
    return this.settle(call, body, await this.afterPeriodEnd(call, () => this.releases.submit(pending)));
  }

  /**
   * A subscription whose period ended with a cancel or a scheduled downgrade no longer counts as live
   * (migration 0014), even before a read settled it. Such a call answers `no_subscription`: settle the
   * user's period ends and, if one was due, run it once more — on the scheduled tier, or refused for good.
   * Nothing was applied the first time, so the retry under the same clientReqId is exact.
   */
  private async afterPeriodEnd(call: UsageCall, run: () => Promise<UsageRow>): Promise<UsageRow> {
    const row = await run();
    if (row.outcome !== "no_subscription" || !(await settlePeriodEnds(this.db, call.userId))) return row;
    return run();
  }

  private async consumeOne({ call, delta, clientReqId, metadata }: Pending): Promise<UsageRow> {
    const args = [call.userId, call.agentId, call.metricSlug, delta, clientReqId, metadata];
    const { rows } = call.tokenHash
      ? await this.sql.query<UsageRow>(
          "SELECT * FROM usage_consume_as($1, $2, $3, $4, $5, $6, $7)",
          [call.tokenHash, ...args],
          "usage_consume_as",
        )
      : await this.sql.query<UsageRow>(
          "SELECT * FROM usage_consume($1, $2, $3, $4, $5, $6)",
          args,
          "usage_consume",
        );
    return rows[0]!;
  }

  private async releaseOne({ call, delta, clientReqId }: Pending): Promise<UsageRow> {
    const args = [call.userId, call.agentId, call.metricSlug, delta, clientReqId];
    const { rows } = call.tokenHash
      ? await this.sql.query<UsageRow>(
          "SELECT * FROM usage_release_as($1, $2, $3, $4, $5, $6)",
          [call.tokenHash, ...args],
          "usage_release_as",
        )
      : await this.sql.query<UsageRow>(
          "SELECT * FROM usage_release($1, $2, $3, $4, $5)",
          args,
          "usage_release",
        );
    return rows[0]!;
  }

  /** One statement (so one transaction) for the whole batch; one row per item, `ord` its 1-based position. */
  private async runBatch(operation: "consume" | "release", items: Pending[]): Promise<UsageRow[]> {
    const params: unknown[] = [
      items.map((p) => p.call.tokenHash ?? null),
      items.map((p) => p.call.userId),
      items.map((p) => p.call.agentId),
      items.map((p) => p.call.metricSlug),
      items.map((p) => p.delta),
      items.map((p) => p.clientReqId),
    ];
    const { rows } =
      operation === "consume"
        ? await this.sql.query<UsageRow & { ord: number }>(
            "SELECT * FROM usage_consume_batch($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::jsonb[])",
            [...params, items.map((p) => p.metadata)],
            "usage_consume_batch",
          )
        : await this.sql.query<UsageRow & { ord: number }>(
            "SELECT * FROM usage_release_batch($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[])",
            params,
            "usage_release_batch",
          );
    const out: (UsageRow | undefined)[] = items.map(() => undefined);
    for (const row of rows) out[Number(row.ord) - 1] = row;
    if (rows.length !== items.length || out.includes(undefined))
      throw new Error(`usage_${operation}_batch answered ${rows.length} rows for ${items.length} items`);
    return out as UsageRow[];
  }

  /** `GET /me/agents/:agentId/usage[/:metricSlug]`: for display; permission checks go through consume. */
  async usage(userId: string, agentId: string, metricSlug?: string): Promise<MetricUsageDto[]> {
    const { rows } = await this.sql.query<{
      slug: string;
      displayName: string;
      unit: string;
      kind: "fixed" | "rolling";
      base_quota: string | null;
      addons_bonus: string | null;
      effective_quota: string | null;
      period_end: Date | null;
      used: string;
      has_subscription: boolean;
    }>(
      `SELECT m."slug", m."displayName", m."unit", m."kind", p.base_quota, p.addons_bonus, p.effective_quota,
              p.period_end, p.has_subscription,
              CASE WHEN c."periodStart" IS DISTINCT FROM p.period_start THEN 0 ELSE coalesce(c."used", 0) END AS used
         FROM "agent_metric_definitions" m
        CROSS JOIN LATERAL usage_position($1, $2, m."slug", now()) p
         LEFT JOIN "usage_counters" c ON c."subscriptionId" = p.subscription_id AND c."metricId" = m."id"
        WHERE m."agentId" = $2 AND ($3::text IS NULL OR m."slug" = $3)
        ORDER BY m."createdAt", m."slug"`,
      [userId, agentId, metricSlug ?? null],
    );
    if (rows.length === 0) {
      await this.assertAgent(agentId);
      if (metricSlug) throw new ApiError("NOT_FOUND", `No metric "${metricSlug}" on this agent.`);
      return [];
    }
    if (!rows[0]!.has_subscription) {
      if (await settlePeriodEnds(this.db, userId)) return this.usage(userId, agentId, metricSlug);
      throw await this.paymentRequired(agentId);
    }
    return rows.map((r) => {
      const effectiveQuota = num(r.effective_quota);
      const used = Number(r.used);
      return {
        metricSlug: r.slug,
        displayName: r.displayName,
        unit: r.unit,
        kind: r.kind,
        baseQuota: num(r.base_quota),
        addonsBonus: Number(r.addons_bonus ?? 0),
        effectiveQuota,
        used,
        remaining: effectiveQuota === null ? null : Math.max(effectiveQuota - used, 0),
        resetsAt: r.kind === "rolling" ? iso(r.period_end) : null,
      };
    });
  }

  private async settle(
    call: UsageCall,
    body: { delta: number; clientReqId: string },
    row: UsageRow,
  ): Promise<UsageOutcome> {
    switch (row.outcome) {
      case "ok":
      case "replay": {
        const effectiveQuota = num(row.effective_quota);
        const used = Number(row.used);
        return {
          replayed: row.outcome === "replay",
          result: {
            clientReqId: body.clientReqId,
            metricSlug: call.metricSlug,
            kind: row.kind!,
            delta: body.delta,
            used,
            effectiveQuota,
            remaining: effectiveQuota === null ? null : Math.max(effectiveQuota - used, 0),
            resetsAt: iso(row.resets_at),
          },
        };
      }
      case "token_revoked":
        throw new ApiError("UNAUTHORIZED", "The access token is no longer valid; sign in again.");
      case "conflict":
        throw new ApiError(
          "CONFLICT",
          "This clientReqId was already used for a different request; use a fresh one.",
        );
      case "no_subscription":
        throw await this.paymentRequired(call.agentId);
      case "metric_not_found":
        throw new ApiError("NOT_FOUND", `No metric "${call.metricSlug}" on this agent.`);
      case "rolling_metric":
        throw new ApiError(
          "UNPROCESSABLE_ENTITY",
          `"${call.metricSlug}" is a rolling metric; rolling usage is never released.`,
        );
      case "quota_exceeded": {
        const effectiveQuota = Number(row.effective_quota);
        throw new ApiError("QUOTA_EXCEEDED", `The quota for "${call.metricSlug}" is exhausted.`, {
          remaining: Math.max(effectiveQuota - Number(row.used), 0),
          resetsAt: iso(row.resets_at),
          effectiveQuota,
        });
      }
    }
  }

  /** 402 for a known agent (with where to subscribe), 404 for an unknown one. */
  private async paymentRequired(agentId: string): Promise<ApiError> {
    const agent = await this.assertAgent(agentId);
    return new ApiError("PAYMENT_REQUIRED", "An active or trialing subscription to this agent is required.", {
      tierUpgradeUrl: `${this.baseUrl}/pricing/${agent.slug}`,
    });
  }

  private async assertAgent(agentId: string) {
    const [agent] = await this.db
      .select({ slug: agents.slug })
      .from(agents)
      .where(eq(agents.id, agentId))
      .limit(1);
    if (!agent) throw new ApiError("NOT_FOUND", "No such agent.");
    return agent;
  }
}
