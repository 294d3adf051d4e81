import { asc, eq, isNull, sql } from "drizzle-orm";
import {
  type DrizzleTransactionLike,
  fromDrizzle,
  fromPglite,
  type Job,
  type PGliteLike,
  PgBoss,
} from "pg-boss";
import type { Logger } from "pino";
import type { Database, Db } from "../db/database.ts";
import { webhookDeliveries, webhookEndpoints, webhookEvents } from "../db/schema.ts";
import { OUTBOX_CHANNEL } from "./emit.ts";
import { signatureHeaders, signingSecrets } from "./signing.ts";

export const DELIVERY_QUEUE = "agent-webhook-delivery";
const RELAY_QUEUE = "agent-webhook-relay";
/** Deliveries are retried for this long after the event (the issue: up to three days). */
export const DELIVERY_WINDOW_SECONDS = 3 * 86_400;
const RETRY_DELAY_MAX_SECONDS = 6 * 3600;
const REQUEST_TIMEOUT_MS = 10_000;
/** How many outbox rows one relay transaction moves to the queue. */
const RELAY_BATCH = 200;

/**
 * How many retries fit the three-day window: pg-boss waits about
 * min(max, delay * 2^n) before retry n (with jitter), so sum the schedule.
 */
export function retriesWithin(windowSeconds: number, delaySeconds: number, maxSeconds: number): number {
  let total = 0;
  let retries = 0;
  while (true) {
    const next = Math.min(maxSeconds, delaySeconds * 2 ** retries);
    if (total + next > windowSeconds) return retries;
    total += next;
    retries += 1;
  }
}

interface DeliveryJob {
  deliveryId: string;
}

export interface EventDeliveryOptions {
  database: Database;
  /** The PostgreSQL URL (pg-boss opens its own small pool); unused with PGlite. */
  databaseUrl?: string;
  logger: Logger;
  retryDelaySeconds: number;
}

/**
 * Delivers the outbox with pg-boss (docs/agent-events.md explains the choice).
 *
 * - The **relay** moves outbox rows (deliveries with no job yet) into pg-boss
 *   in one transaction per batch, `FOR UPDATE SKIP LOCKED`, so each row becomes
 *   exactly one job whichever instance relays it. It runs when a commit
 *   NOTIFYs the outbox channel, and every minute from a pg-boss schedule as a
 *   backstop (a missed notification, a crash between commit and relay).
 * - The **worker** takes jobs (pg-boss hands each job to one worker across all
 *   instances), signs and POSTs the event, records the attempt in the delivery
 *   log, and throws on failure so pg-boss retries with exponential backoff.
 *   A crash mid-attempt re-delivers after the job expires: at-least-once,
 *   receivers dedupe by `webhook-id`.
 *
 * PGlite (npm start) runs the same code: pg-boss's PGlite adapter over the
 * embedded database, one process.
 */
export class EventDelivery {
  readonly boss: PgBoss;
  private readonly db: Db;
  private readonly logger: Logger;
  private readonly retryLimit: number;
  private readonly retryDelaySeconds: number;
  private unlisten: (() => Promise<void>) | null = null;
  private relaying: Promise<void> | null = null;
  private relayAgain = false;
  private stopped = false;

  constructor(private readonly options: EventDeliveryOptions) {
    const { database } = options;
    this.db = database.db;
    this.logger = options.logger.child({ component: "agent-webhooks" });
    this.retryDelaySeconds = options.retryDelaySeconds;
    this.retryLimit = retriesWithin(
      DELIVERY_WINDOW_SECONDS,
      options.retryDelaySeconds,
      RETRY_DELAY_MAX_SECONDS,
    );
    this.boss =
      database.kind === "pglite"
        ? new PgBoss({
            db: fromPglite((this.db as unknown as { $client: PGliteLike }).$client),
            backend: "pglite",
            supervise: true,
            schedule: true,
          })
        : new PgBoss({
            connectionString: requireUrl(options.databaseUrl),
            max: 3,
            application_name: "marketplace-webhooks",
          });
    this.boss.on("error", (error) => this.logger.error({ err: error }, "pg-boss error"));
  }

  async start(): Promise<void> {
    await this.boss.start();
    await this.boss.createQueue(DELIVERY_QUEUE, {
      retryLimit: this.retryLimit,
      retryDelay: this.retryDelaySeconds,
      retryBackoff: true,
      retryDelayMax: RETRY_DELAY_MAX_SECONDS,
      expireInSeconds: Math.ceil(REQUEST_TIMEOUT_MS / 1000) + 20,
      retentionSeconds: DELIVERY_WINDOW_SECONDS + 86_400,
    });
    await this.boss.createQueue(RELAY_QUEUE, { retryLimit: 0 });
    await this.boss.work<DeliveryJob>(
      DELIVERY_QUEUE,
      { pollingIntervalSeconds: 0.5, batchSize: 1, localConcurrency: 4 },
      async ([job]) => this.deliver(job!),
    );
    await this.boss.work(RELAY_QUEUE, async () => this.relay());
    await this.boss.schedule(RELAY_QUEUE, "* * * * *");
    this.unlisten = await this.options.database.listen(OUTBOX_CHANNEL, {
      onMessage: () => void this.relay(),
      onGap: () => void this.relay(),
    });
    await this.relay();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.unlisten?.();
    await this.relaying;
    await this.boss.stop({ graceful: true, timeout: 5_000, close: true });
  }

  /** Moves the outbox into pg-boss; concurrent calls on one instance coalesce into one more pass. */
  relay(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    if (this.relaying) {
      this.relayAgain = true;
      return this.relaying;
    }
    this.relaying = (async () => {
      try {
        do {
          this.relayAgain = false;
          while ((await this.relayBatch()) === RELAY_BATCH && !this.stopped) {}
        } while (this.relayAgain && !this.stopped);
      } catch (error) {
        this.logger.error({ err: error }, "webhook relay failed; the schedule retries within a minute");
      } finally {
        this.relaying = null;
      }
    })();
    return this.relaying;
  }

  private relayBatch(): Promise<number> {
    return this.db.transaction(async (tx) => {
      const rows = await tx
        .select({ id: webhookDeliveries.id })
        .from(webhookDeliveries)
        .where(isNull(webhookDeliveries.jobId))
        .orderBy(asc(webhookDeliveries.createdAt))
        .limit(RELAY_BATCH)
        .for("update", { skipLocked: true });
      for (const row of rows) {
        const jobId = await this.boss.send(
          DELIVERY_QUEUE,
          { deliveryId: row.id } satisfies DeliveryJob,
          // The job commits with the row that records it: one job per delivery, whoever relays.
          { db: inTransaction(tx) },
        );
        await tx.update(webhookDeliveries).set({ jobId }).where(eq(webhookDeliveries.id, row.id));
      }
      return rows.length;
    });
  }

  private async deliver(job: Job<DeliveryJob>): Promise<void> {
    const [found] = await this.db
      .select({ d: webhookDeliveries, e: webhookEvents, p: webhookEndpoints })
      .from(webhookDeliveries)
      .innerJoin(webhookEvents, eq(webhookEvents.id, webhookDeliveries.eventId))
      .innerJoin(webhookEndpoints, eq(webhookEndpoints.id, webhookDeliveries.endpointId))
      .where(eq(webhookDeliveries.id, job.data.deliveryId));
    // Deleted endpoint (cascade) or disabled: nothing to send, nothing to retry.
    if (!found || found.p.disabledAt) return;
    const { d, e, p } = found;
    const body = JSON.stringify(e.payload);
    const now = new Date();
    let statusCode: number | null = null;
    let error: string | null = null;
    try {
      const response = await fetch(p.url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "user-agent": "agent-marketplace-webhooks/1",
          ...signatureHeaders(e.id, body, signingSecrets(p, now), now),
        },
        body,
        redirect: "manual",
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      statusCode = response.status;
      await response.body?.cancel();
      if (response.status < 200 || response.status > 299) error = `HTTP ${response.status}`;
    } catch (cause) {
      error = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    }
    const lastAttempt = job.retryCount >= this.retryLimit;
    await this.db
      .update(webhookDeliveries)
      .set({
        attempts: sql`${webhookDeliveries.attempts} + 1`,
        lastStatusCode: statusCode,
        lastError: error,
        lastAttemptAt: now,
        ...(error
          ? { status: lastAttempt ? ("failed" as const) : ("pending" as const) }
          : { status: "delivered" as const, deliveredAt: now }),
      })
      .where(eq(webhookDeliveries.id, d.id));
    if (error) {
      this.logger.warn(
        { deliveryId: d.id, endpoint: p.id, attempt: job.retryCount + 1, error },
        "webhook delivery failed",
      );
      throw new Error(error);
    }
  }
}

/** pg-boss statements inside a Drizzle transaction, so a job commits or rolls back with it. */
const inTransaction = (tx: Db) => fromDrizzle(tx as unknown as DrizzleTransactionLike, sql);

function requireUrl(url: string | undefined): string {
  if (!url) throw new Error("agent webhooks: a PostgreSQL database needs its URL for pg-boss");
  return url;
}
