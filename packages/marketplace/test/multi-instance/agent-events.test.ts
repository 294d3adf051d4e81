import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedBench } from "../../../../bench/seed.ts";
import { emit } from "../../src/events/emit.ts";
import { createEndpoint } from "../../src/events/service.ts";
import { startReceiver, waitFor } from "../support/webhook-receiver.ts";
import { type Cluster, startCluster } from "./cluster.ts";

/**
 * Issue 14: three marketplace processes on one PostgreSQL database all relay
 * the outbox and all run delivery workers; every event still reaches the
 * endpoint exactly once when it answers 2xx, and per-(user, agent) sequence
 * numbers stay gapless under concurrent writers. PostgreSQL only (PGlite is
 * one process); the PostgreSQL pass of CI runs it.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const USERS = 5;
const EVENTS_PER_USER = 12;

describe.skipIf(!onPostgres)("multi-instance: agent events, one delivery per event", () => {
  let c: Cluster;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let agentId: string;

  beforeAll(async () => {
    c = await startCluster(3, { WEBHOOK_RETRY_DELAY_SECONDS: "1" });
    const seeded = await seedBench(c.db, "http://localhost:3999");
    agentId = seeded.agent.id;
    receiver = await startReceiver();
    await createEndpoint(c.db.db, agentId, { url: receiver.url }, false);
  }, 180_000);
  afterAll(async () => {
    await c?.close();
    await receiver?.close();
  });

  it("60 events written concurrently are each delivered once, sequences 1..n per user", async () => {
    const users = Array.from({ length: USERS }, () => `user-${randomUUID()}`);
    const ids = (
      await Promise.all(
        users.flatMap((userId) =>
          Array.from({ length: EVENTS_PER_USER }, () =>
            c.db.db.transaction((tx) => emit(tx, { type: "entitlements.updated", userId, agentId })),
          ),
        ),
      )
    ).map((id) => id!);
    await waitFor("every event", () => ids.every((id) => receiver.applied.has(id)), 60_000);
    // Settle: a duplicate would arrive right behind the first delivery.
    await new Promise((r) => setTimeout(r, 2_000));
    const perId = new Map<string, number>();
    for (const r of receiver.requests) perId.set(r.id, (perId.get(r.id) ?? 0) + 1);
    expect([...perId.values()].every((n) => n === 1)).toBe(true);
    expect(perId.size).toBe(ids.length);
    for (const userId of users) {
      const sequences = [...receiver.applied.values()]
        .filter((r) => r.payload.data.sub === userId)
        .map((r) => r.payload.data.sequence as number)
        .sort((a, b) => a - b);
      expect(sequences).toEqual(Array.from({ length: EVENTS_PER_USER }, (_, i) => i + 1));
    }
    const { rows } = await c.db.sql.query<{ n: string }>(
      `SELECT count(*) AS n FROM webhook_deliveries WHERE status = 'delivered' AND attempts = 1`,
    );
    expect(Number(rows[0]!.n)).toBe(ids.length);
  }, 120_000);

  it("an endpoint down while instances retry gets each event once it is back", async () => {
    receiver.setStatus(503);
    const userId = `user-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (await c.db.db.transaction((tx) => emit(tx, { type: "subscription.updated", userId, agentId })))!,
      );
    await waitFor(
      "failed attempts",
      () => ids.every((id) => receiver.requests.some((r) => r.id === id)),
      30_000,
    );
    expect(ids.some((id) => receiver.applied.has(id))).toBe(false);
    receiver.setStatus(200);
    await waitFor("every event after recovery", () => ids.every((id) => receiver.applied.has(id)), 60_000);
    const { rows } = await c.db.sql.query<{ status: string; attempts: number }>(
      `SELECT status, attempts FROM webhook_deliveries d JOIN webhook_events e ON e.id = d."eventId" WHERE e."userId" = $1`,
      [userId],
    );
    expect(rows).toHaveLength(5);
    for (const row of rows) {
      expect(row.status).toBe("delivered");
      expect(row.attempts).toBeGreaterThanOrEqual(2);
    }
  }, 120_000);
});
