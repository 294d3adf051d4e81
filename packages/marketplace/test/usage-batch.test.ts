import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  adminBrowser,
  agentUser,
  bearerCall,
  type DemoAgent,
  type Envelope,
  registerAgent,
  subscribeFree,
} from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { moved, scrape } from "./support/scrape.ts";

/**
 * Issue 13: consumes and releases that arrive while a batch is in flight are group-committed (one
 * transaction), and each must get exactly the outcome it would get alone. To put a known set of
 * requests into one batch, the only batch slot (USAGE_BATCH_IN_FLIGHT=1) is held by a consume that
 * waits on an advisory lock this test holds on its clientReqId; the requests queue behind it (the
 * queue gauge says when all have arrived), and releasing the lock lets the next batch take them all.
 * Holding a lock from another session only means something on PostgreSQL (PGlite has one backend),
 * so this suite runs in the PostgreSQL pass; the §D suite (usage-metering.test.ts) runs on both.
 */
const onPostgres = Boolean(process.env.TEST_DATABASE_URL);
const METRICS_TOKEN = "metrics-token-for-the-batch-suite-0123456789";

// biome-ignore lint/suspicious/noExplicitAny: tests read envelopes loosely, as support/billing.ts does
type Reply = { status: number; body: Envelope<any>; headers: Headers };

describe.skipIf(!onPostgres)("group commit of consume and release (PostgreSQL)", () => {
  let t: TestMarketplace;
  let agent: DemoAgent;
  let db: pg.Client;
  let holder: Awaited<ReturnType<typeof agentUser>>;

  const path = (metric: string, op: "consume" | "release") => `/me/agents/${agent.id}/usage/${metric}/${op}`;
  const consume = (token: string, metric: string, body: Record<string, unknown>) =>
    bearerCall(t.url, token, "POST", path(metric, "consume"), body);
  const release = (token: string, metric: string, body: Record<string, unknown>) =>
    bearerCall(t.url, token, "POST", path(metric, "release"), body);
  const metrics = () => scrape(t.url, METRICS_TOKEN);

  beforeAll(async () => {
    t = await startTestMarketplace({ USAGE_BATCH_IN_FLIGHT: "1", METRICS_TOKEN });
    const admin = await adminBrowser(t);
    agent = await registerAgent(admin, {
      messages: ["rolling", 50, 500],
      "knowledge-bases": ["fixed", 3, 10],
      unlimited: ["rolling", null, null],
      forbidden: ["rolling", undefined, undefined],
    });
    db = new pg.Client({ connectionString: (t.mp.config.database as { url: string }).url });
    await db.connect();
    holder = await agentUser(t, agent);
    await subscribeFree(holder, agent);
  });
  afterAll(async () => {
    await db?.end();
    await t?.close();
  });

  /**
   * Runs `requests` as one group commit: holds the only batch slot, waits until every request is
   * queued behind it, then lets go. Asserts that exactly one batch of all of them ran.
   */
  async function inOneBatch(operation: "consume" | "release", requests: (() => Promise<Reply>)[]) {
    const blockReq = randomUUID();
    await db.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [blockReq]);
    // Consume and release have a batch slot each: hold the one of this operation.
    const blocker =
      operation === "consume"
        ? consume(holder.token, "unlimited", { delta: 1, clientReqId: blockReq })
        : release(holder.token, "knowledge-bases", { delta: 1, clientReqId: blockReq });
    for (let i = 0; ; i++) {
      const { rows } = await db.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted",
      );
      if (rows[0]!.n > 0) break;
      if (i > 200) throw new Error("the blocking consume never reached the database");
      await sleep(10);
    }
    const before = await metrics();
    const replies = requests.map((r) => r());
    for (let i = 0; (await metrics()).value("marketplace_usage_batch_queued") < requests.length; i++) {
      if (i > 500) throw new Error("the requests never all queued");
      await sleep(10);
    }
    await db.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [blockReq]);
    expect((await blocker).status).toBe(200);
    const results = await Promise.all(replies);
    const after = await metrics();
    expect(moved(before, after, "marketplace_usage_batch_size_count", { operation })).toBe(1);
    expect(moved(before, after, "marketplace_usage_batch_size_sum", { operation })).toBe(requests.length);
    return {
      results,
      failures: moved(before, after, "marketplace_usage_batch_failures_total", { operation }),
    };
  }

  async function ledgerRows(reqs: string[]) {
    const { rows } = await db.query<{ clientReqId: string; n: number }>(
      `SELECT "clientReqId", count(*)::int AS n FROM usage_ledger WHERE "clientReqId" = ANY($1) GROUP BY 1`,
      [reqs],
    );
    return Object.fromEntries(rows.map((r) => [r.clientReqId, r.n]));
  }

  async function counterEqualsLedger(userId: string, metric: string) {
    const { rows } = await db.query<{ counter: string; ledger: string }>(
      `SELECT (SELECT coalesce(sum(c.used), 0) FROM usage_counters c JOIN user_agent_subscriptions s ON s.id = c."subscriptionId"
                WHERE s."userId" = $1 AND c."metricId" = $2) AS counter,
              (SELECT coalesce(sum(CASE WHEN action = 'consume' THEN delta ELSE -delta END), 0) FROM usage_ledger
                WHERE "userId" = $1 AND "metricSlug" = $3) AS ledger`,
      [userId, agent.metrics[metric]!.id, metric],
    );
    return { counter: Number(rows[0]!.counter), ledger: Number(rows[0]!.ledger) };
  }

  const errorOf = (r: Reply) => ({
    status: r.status,
    code: r.body.error?.code,
    message: r.body.error?.message,
    details: r.body.error?.details,
  });

  it("mixed outcomes in one batch: 200, 402, 404, 409, 429 and replays, each exactly as alone", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const stranger = await agentUser(t, agent); // a token for the agent, no subscription
    const dup = { delta: 2, clientReqId: randomUUID() };
    const clash = randomUUID();
    const oks = [randomUUID(), randomUUID(), randomUUID()];
    const kbs = Array.from({ length: 5 }, () => randomUUID());
    const requests: (readonly [string, () => Promise<Reply>])[] = [
      ...oks.map(
        (id) => ["ok", () => consume(user.token, "messages", { delta: 1, clientReqId: id })] as const,
      ),
      ...kbs.map(
        (id) => ["kb", () => consume(user.token, "knowledge-bases", { delta: 1, clientReqId: id })] as const,
      ),
      ["404", () => consume(user.token, "no-such-metric", { delta: 1, clientReqId: randomUUID() })],
      ["402", () => consume(stranger.token, "messages", { delta: 1, clientReqId: randomUUID() })],
      ["no-quota", () => consume(user.token, "forbidden", { delta: 1, clientReqId: randomUUID() })],
      ["dup", () => consume(user.token, "messages", dup)],
      ["dup", () => consume(user.token, "messages", dup)],
      ["dup", () => consume(user.token, "messages", dup)],
      ["clash", () => consume(user.token, "messages", { delta: 1, clientReqId: clash })],
      ["clash", () => consume(user.token, "messages", { delta: 5, clientReqId: clash })],
    ];
    const { results, failures } = await inOneBatch(
      "consume",
      requests.map(([, r]) => r),
    );
    expect(failures).toBe(0);
    const by = (label: string) => results.filter((_, i) => requests[i]![0] === label);

    expect(by("ok").map((r) => r.status)).toEqual([200, 200, 200]);
    const kb = by("kb");
    expect(kb.filter((r) => r.status === 200)).toHaveLength(3);
    expect(kb.filter((r) => r.status === 429)).toHaveLength(2);
    expect(new Set(kb.filter((r) => r.status === 200).map((r) => r.body.data.used))).toEqual(
      new Set([1, 2, 3]),
    );

    const dups = by("dup");
    expect(dups.every((r) => r.status === 200)).toBe(true);
    expect(new Set(dups.map((r) => JSON.stringify(r.body.data))).size).toBe(1);
    expect(dups.filter((r) => r.headers.get("idempotent-replayed") === "true")).toHaveLength(2);

    const clashes = by("clash");
    expect(clashes.map((r) => r.status).sort()).toEqual([200, 409]);
    const won = clashes.find((r) => r.status === 200)!;

    // The same situations alone (one request, nothing else in flight) answer the very same envelopes.
    const alone = {
      "404": await consume(user.token, "no-such-metric", { delta: 1, clientReqId: randomUUID() }),
      "402": await consume(stranger.token, "messages", { delta: 1, clientReqId: randomUUID() }),
      "no-quota": await consume(user.token, "forbidden", { delta: 1, clientReqId: randomUUID() }),
      kb: await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() }),
      clash: await consume(user.token, "messages", {
        delta: won.body.data.delta === 1 ? 5 : 1,
        clientReqId: clash,
      }),
      dup: await consume(user.token, "messages", dup),
    };
    expect(errorOf(by("404")[0]!)).toEqual(errorOf(alone["404"]));
    expect(alone["404"].status).toBe(404);
    expect(errorOf(by("402")[0]!)).toEqual(errorOf(alone["402"]));
    expect(alone["402"].status).toBe(402);
    expect(errorOf(by("no-quota")[0]!)).toEqual(errorOf(alone["no-quota"]));
    expect(alone["no-quota"].status).toBe(429);
    for (const r of kb.filter((r) => r.status === 429)) expect(errorOf(r)).toEqual(errorOf(alone.kb));
    expect(errorOf(clashes.find((r) => r.status === 409)!)).toEqual(errorOf(alone.clash));
    expect(alone.dup.body.data).toEqual(dups[0]!.body.data);

    // Exactly one ledger row per applied request; counters equal their ledgers.
    const applied = [...oks, ...kbs.filter((_, i) => kb[i]!.status === 200), dup.clientReqId, clash];
    const rows = await ledgerRows([...applied, ...kbs]);
    expect(Object.values(rows).every((n) => n === 1)).toBe(true);
    expect(Object.keys(rows).sort()).toEqual([...applied].sort());
    for (const metric of ["messages", "knowledge-bases"]) {
      const { counter, ledger } = await counterEqualsLedger(user.userId, metric);
      expect(counter).toBe(ledger);
    }
    expect((await counterEqualsLedger(user.userId, "messages")).counter).toBe(3 + 2 + won.body.data.delta);
  });

  it("metadata travels through the batch's array parameters unchanged (quotes, backslashes, braces, NULL-ish text, unicode)", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const samples: Record<string, unknown>[] = [
      { q: 'say "hi"', b: 'back\\slash \\"', braces: "{a,b}", comma: "x,y" },
      { nul: "NULL", empty: "", arr: ["{", "}", '"', ","], nested: { deep: [1, 2.5, null, true] } },
      { unicode: "héllo — 日本 🎉", newline: "a\nb\tc" },
    ];
    const ids = samples.map(() => randomUUID());
    const { results } = await inOneBatch(
      "consume",
      samples.map(
        (metadata, i) => () => consume(user.token, "messages", { delta: 1, clientReqId: ids[i]!, metadata }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    const { rows } = await db.query<{ clientReqId: string; metadata: unknown }>(
      `SELECT "clientReqId", metadata FROM usage_ledger WHERE "clientReqId" = ANY($1)`,
      [ids],
    );
    const stored = Object.fromEntries(rows.map((r) => [r.clientReqId, r.metadata]));
    expect(ids.map((id) => stored[id])).toEqual(samples);
  });

  it("batches lock counters in key order: two listing the same counters in opposite orders never deadlock", async () => {
    const users = [await agentUser(t, agent), await agentUser(t, agent)];
    for (const u of users) await subscribeFree(u, agent);
    // The database's own order of the counter keys (its collation decides, not JavaScript's).
    const { rows: sorted } = await db.query<{ id: string }>(
      "SELECT x AS id FROM unnest($1::text[]) x ORDER BY x",
      [users.map((u) => u.userId)],
    );
    const [first, second] = sorted.map((r) => r.id) as [string, string];
    const url = (t.mp.config.database as { url: string }).url;
    const [c1, c2] = [new pg.Client({ connectionString: url }), new pg.Client({ connectionString: url })];
    await c1.connect();
    await c2.connect();
    const batch = (client: pg.Client, ids: string[]) =>
      client.query<{ ord: number; outcome: string }>(
        "SELECT * FROM usage_consume_batch($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::jsonb[])",
        [
          ids.map(() => null),
          ids,
          ids.map(() => agent.id),
          ids.map(() => "unlimited"),
          ids.map(() => 1),
          ids.map(() => randomUUID()),
          ids.map(() => null),
        ],
      );
    try {
      await c1.query("BEGIN");
      await batch(c1, [first]); // c1 holds the first counter
      const { rows: pid } = await c2.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
      // Listed second-then-first: sorted, it waits for the first counter before touching the second.
      const other = batch(c2, [second, first]);
      for (let i = 0; ; i++) {
        const { rows } = await db.query(
          "SELECT 1 FROM pg_stat_activity WHERE pid = $1 AND wait_event_type = 'Lock'",
          [pid[0]!.pid],
        );
        if (rows.length) break;
        if (i > 300) throw new Error("the second batch never waited");
        await sleep(10);
      }
      // Unsorted, the second batch would hold the second counter now, and this would deadlock.
      await batch(c1, [second]);
      await c1.query("COMMIT");
      const { rows } = await other;
      expect(rows.map((r) => r.outcome)).toEqual(["ok", "ok"]);
    } finally {
      await c1.end();
      await c2.end();
    }
  });

  it("a hot row: 80 consumes of one counter with 50 left in one batch — exactly 50 succeed", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    const { results } = await inOneBatch(
      "consume",
      Array.from(
        { length: 80 },
        () => () => consume(user.token, "messages", { delta: 1, clientReqId: randomUUID() }),
      ),
    );
    const ok = results.filter((r) => r.status === 200);
    expect(ok).toHaveLength(50);
    expect(new Set(ok.map((r) => r.body.data.used)).size).toBe(50);
    const refused = results.filter((r) => r.status === 429);
    expect(refused).toHaveLength(30);
    for (const r of refused) expect(r.body.error!.details!.remaining).toBe(0);
    expect(await counterEqualsLedger(user.userId, "messages")).toEqual({ counter: 50, ledger: 50 });
  });

  it("a batch whose transaction fails is retried item by item: the others apply once, the bad one fails alone", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    // One item whose ledger insert raises aborts the batch's transaction (as a deadlock or timeout would).
    await db.query(`CREATE FUNCTION test_explode() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.metadata->>'explode' = 'now' THEN RAISE EXCEPTION 'test: exploding ledger insert'; END IF; RETURN NEW; END $$`);
    await db.query(
      `CREATE TRIGGER test_explode BEFORE INSERT ON usage_ledger FOR EACH ROW EXECUTE FUNCTION test_explode()`,
    );
    try {
      const good = Array.from({ length: 6 }, () => randomUUID());
      const bad = randomUUID();
      const { results, failures } = await inOneBatch("consume", [
        ...good.map(
          (id) => () => consume(user.token, "messages", { delta: 1, clientReqId: id, metadata: { n: id } }),
        ),
        () => consume(user.token, "messages", { delta: 1, clientReqId: bad, metadata: { explode: "now" } }),
      ]);
      expect(failures).toBe(1);
      expect(results.slice(0, 6).map((r) => r.status)).toEqual([200, 200, 200, 200, 200, 200]);
      expect(results.slice(0, 6).some((r) => r.headers.get("idempotent-replayed"))).toBe(false);
      expect(new Set(results.slice(0, 6).map((r) => r.body.data.used))).toEqual(new Set([1, 2, 3, 4, 5, 6]));
      expect(results[6]!.status).toBe(500);
      expect(results[6]!.body.error!.code).toBe("INTERNAL_ERROR");
      // Alone it fails the same way.
      const again = await consume(user.token, "messages", {
        delta: 1,
        clientReqId: bad,
        metadata: { explode: "now" },
      });
      expect(errorOf(again)).toEqual(errorOf(results[6]!));
      const rows = await ledgerRows([...good, bad]);
      expect(rows).toEqual(Object.fromEntries(good.map((id) => [id, 1])));
      expect(await counterEqualsLedger(user.userId, "messages")).toEqual({ counter: 6, ledger: 6 });
    } finally {
      await db.query("DROP TRIGGER test_explode ON usage_ledger");
      await db.query("DROP FUNCTION test_explode()");
    }
  });

  it("releases in one batch: 200s never below zero, 422 for a rolling metric, duplicates replayed", async () => {
    const user = await agentUser(t, agent);
    await subscribeFree(user, agent);
    for (let i = 0; i < 2; i++)
      expect(
        (await consume(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() })).status,
      ).toBe(200);
    const dup = { delta: 1, clientReqId: randomUUID() };
    const requests: (readonly [string, () => Promise<Reply>])[] = [
      ...Array.from(
        { length: 4 },
        () =>
          ["rel", () => release(user.token, "knowledge-bases", { delta: 1, clientReqId: randomUUID() })] as [
            string,
            () => Promise<Reply>,
          ],
      ),
      ["dup", () => release(user.token, "knowledge-bases", dup)],
      ["dup", () => release(user.token, "knowledge-bases", dup)],
      ["rolling", () => release(user.token, "messages", { delta: 1, clientReqId: randomUUID() })],
    ];
    const { results, failures } = await inOneBatch(
      "release",
      requests.map(([, r]) => r),
    );
    expect(failures).toBe(0);
    const by = (label: string) => results.filter((_, i) => requests[i]![0] === label);
    expect([...by("rel"), ...by("dup")].every((r) => r.status === 200 && r.body.data.used >= 0)).toBe(true);
    expect(by("dup")[0]!.body.data).toEqual(by("dup")[1]!.body.data);
    const rolling = by("rolling")[0]!;
    expect(rolling.status).toBe(422);
    expect(errorOf(rolling)).toEqual(
      errorOf(await release(user.token, "messages", { delta: 1, clientReqId: randomUUID() })),
    );
    const { rows } = await db.query<{ used: string }>(
      `SELECT c.used FROM usage_counters c JOIN user_agent_subscriptions s ON s.id = c."subscriptionId"
        WHERE s."userId" = $1 AND c."metricId" = $2`,
      [user.userId, agent.metrics["knowledge-bases"]!.id],
    );
    expect(Number(rows[0]!.used)).toBe(0);
  });
});
