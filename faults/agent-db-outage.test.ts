import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgentApp } from "../apps/agent/test/support.ts";
import { testDatabase } from "../packages/marketplace/test/support/database.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!onPostgres)("E.2 the agent's own database goes away for 10 s", () => {
  let proxy: TcpProxy;
  let app: Awaited<ReturnType<typeof startAgentApp>>;
  let target: Awaited<ReturnType<typeof testDatabase>>;
  beforeAll(async () => {
    target = await testDatabase();
    const url = new URL(target.env.DATABASE_URL!);
    proxy = await new TcpProxy(Number(url.port || 5432)).start();
    url.hostname = "127.0.0.1";
    url.port = String(proxy.port);
    app = await startAgentApp({ database: { url: url.toString() } });
  });
  afterAll(async () => {
    await app?.close();
    await proxy?.close();
    await target?.drop();
  });

  it("answers 503 'try again' within the budget (no hang, no 500), never charges for work it cannot do, and recovers", {
    timeout: 60_000,
  }, async () => {
    const user = await app.demoUser();
    const kb = (await user.call("POST", "/api/kbs", { name: "Before the outage" })).json.knowledgeBase;
    const usedBefore = (await user.call("GET", "/api/me/usage")).json.metrics.find(
      (m: { metricSlug: string }) => m.metricSlug === "messages",
    ).used;

    proxy.cut();
    const until = Date.now() + 10_000;
    let requests = 0;
    while (Date.now() < until) {
      const started = Date.now();
      const list = await user.call("GET", "/api/kbs");
      const ask = await user.call("POST", `/api/kbs/${kb.id}/ask`, { question: "anything?" });
      for (const r of [list, ask]) {
        expect(r.status, r.text).toBe(503);
        expect(r.json).toMatchObject({ error: "try_again" });
      }
      expect(Date.now() - started).toBeLessThan(12_000);
      requests++;
    }
    proxy.restore();
    expect(requests).toBeGreaterThan(0);

    // The questions that failed were never charged.
    const usedAfter = (await user.call("GET", "/api/me/usage")).json.metrics.find(
      (m: { metricSlug: string }) => m.metricSlug === "messages",
    ).used;
    expect(usedAfter).toBe(usedBefore);
    let recovered = false;
    for (let i = 0; i < 40 && !recovered; i++) {
      recovered = (await user.call("GET", "/api/kbs")).status === 200;
      if (!recovered) await new Promise((r) => setTimeout(r, 250));
    }
    expect(recovered).toBe(true);
  });
});
