import type { ChildProcess } from "node:child_process";
import { randomUUID } from "node:crypto";
import { startProcess, stopProcess, waitFor } from "../bench/lib.ts";
import { seedBench } from "../bench/seed.ts";
import { type Database, openDatabase } from "../packages/marketplace/src/db/database.ts";
import { migrate } from "../packages/marketplace/src/db/migrate.ts";
import { testDatabase } from "../packages/marketplace/test/support/database.ts";

/** A marketplace in its own process on PostgreSQL, seeded with subscribed users holding access tokens. */
export async function marketplaceProcess(port: number, databaseUrlFor: (url: string) => string = (u) => u) {
  const target = await testDatabase();
  const url = target.env.DATABASE_URL!;
  const db = await openDatabase({ url });
  await migrate(db.sql);
  const { agent, tokens } = await seedBench(db, "http://localhost:3999");
  let server: ChildProcess & { output: string[] };
  const start = async () => {
    server = startProcess(["packages/marketplace/src/cli.ts", "serve"], {
      MARKETPLACE_PORT: String(port),
      RATE_LIMIT: "off",
      DATABASE_URL: databaseUrlFor(url),
    });
    await waitFor(`http://127.0.0.1:${port}/health`, server);
  };
  await start();
  const consumeUrl = `http://127.0.0.1:${port}/me/agents/${agent.id}/usage/messages/consume`;
  return {
    db,
    agent,
    tokens,
    url,
    consumeUrl,
    start,
    get server() {
      return server;
    },
    async stop() {
      await stopProcess(server);
      await db.close();
      await target.drop();
    },
  };
}

/** One consume; resolves with the HTTP status, or "error" when no answer came back. */
export async function consume(
  url: string,
  token: string,
  clientReqId: string = randomUUID(),
  timeoutMs = 15_000,
) {
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ delta: 1, clientReqId }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const body = (await response.json().catch(() => null)) as { error?: { code?: string } } | null;
    return { status: response.status, code: body?.error?.code, clientReqId };
  } catch {
    return { status: "error" as const, code: undefined, clientReqId };
  }
}

/** Counter sum, ledger sum and per-id ledger rows for an agent. */
export async function accounting(db: Database, agentId: string) {
  const { rows } = await db.sql.query<{ ledger: string; counters: string }>(
    `SELECT (SELECT coalesce(sum(delta), 0) FROM usage_ledger WHERE "agentId" = $1) AS ledger,
            (SELECT coalesce(sum(c.used), 0) FROM usage_counters c JOIN user_agent_subscriptions s ON s.id = c."subscriptionId"
              WHERE s."agentId" = $1) AS counters`,
    [agentId],
  );
  return { ledger: Number(rows[0]!.ledger), counters: Number(rows[0]!.counters) };
}

export async function ledgerRows(db: Database, ids: string[]) {
  if (ids.length === 0) return new Map<string, number>();
  const { rows } = await db.sql.query<{ id: string; n: string }>(
    `SELECT "clientReqId" AS id, count(*) AS n FROM usage_ledger WHERE "clientReqId" = ANY($1::text[]) GROUP BY 1`,
    [ids],
  );
  return new Map(rows.map((r) => [r.id, Number(r.n)]));
}

export { stopProcess };
