import { afterAll, describe, expect, it } from "vitest";
import { serverPid } from "../bench/lib.ts";
import { accounting, consume, ledgerRows, marketplaceProcess } from "./support.ts";
import { TcpProxy } from "./tcp-proxy.ts";

const onPostgres = Boolean(process.env.TEST_DATABASE_URL);

describe.skipIf(!onPostgres)("E.1 kill -9 during a consume storm", () => {
  let mp: Awaited<ReturnType<typeof marketplaceProcess>>;
  afterAll(() => mp?.stop());

  it("every acknowledged consume has exactly one ledger row; the rest are applied at most once and settle on retry", {
    timeout: 90_000,
  }, async () => {
    mp = await marketplaceProcess(4501);
    const acknowledged: string[] = [];
    const unanswered: { id: string; token: string }[] = [];
    let killed = false;
    const worker = async (w: number) => {
      for (let i = 0; !killed || i === 0; i++) {
        const token = mp.tokens[(w * 37 + i) % mp.tokens.length]!;
        const r = await consume(mp.consumeUrl, token, undefined, 5_000);
        if (r.status === 200) acknowledged.push(r.clientReqId);
        else unanswered.push({ id: r.clientReqId, token });
        if (killed) break;
      }
    };
    // Warm up (first requests pay for module loading), then storm until plenty are acknowledged.
    const warm = await consume(mp.consumeUrl, mp.tokens[999]!);
    expect(warm.status, mp.server.output.join("").slice(-2000)).toBe(200);
    const storm = Promise.all(Array.from({ length: 16 }, (_, w) => worker(w)));
    const deadline = Date.now() + 20_000;
    while (acknowledged.length < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    // SIGKILL the process that serves (tsx runs it as a child), then the wrapper.
    const victim = serverPid(mp.server.pid!);
    expect(victim).not.toBe(mp.server.pid);
    process.kill(victim, "SIGKILL");
    mp.server.kill("SIGKILL");
    killed = true;
    await storm;
    await new Promise((r) => setTimeout(r, 200));
    expect(await fetch(mp.consumeUrl.replace(/\/me\/.*/, "/health")).catch(() => null)).toBeNull();
    expect(acknowledged.length).toBeGreaterThan(50);

    await mp.start();
    const ids = unanswered.map((u) => u.id);
    const rows = await ledgerRows(mp.db, [...acknowledged, ...ids]);
    for (const id of acknowledged) expect(rows.get(id), id).toBe(1);
    for (const id of ids) expect([undefined, 1]).toContain(rows.get(id));
    const before = await accounting(mp.db, mp.agent.id);
    expect(before.counters).toBe(before.ledger);

    // The client retries each unanswered request with the same clientReqId: now each is applied exactly once.
    for (const { id, token } of unanswered)
      expect((await consume(mp.consumeUrl, token, id)).status).toBe(200);
    const after = await ledgerRows(mp.db, ids);
    for (const id of ids) expect(after.get(id)).toBe(1);
    const totals = await accounting(mp.db, mp.agent.id);
    expect(totals.counters).toBe(totals.ledger);
  });
});

describe.skipIf(!onPostgres)("E.2 database outage behind a TCP proxy", () => {
  let mp: Awaited<ReturnType<typeof marketplaceProcess>>;
  let proxy: TcpProxy;
  afterAll(async () => {
    await mp?.stop();
    await proxy?.close();
  });

  it("answers 503 SERVICE_UNAVAILABLE within the budget during a 10 s cut, recovers on its own, loses and doubles nothing", {
    timeout: 120_000,
  }, async () => {
    const pgPort = Number(new URL(process.env.TEST_DATABASE_URL!).port || 5432);
    proxy = await new TcpProxy(pgPort).start();
    mp = await marketplaceProcess(4502, (url) => {
      const viaProxy = new URL(url);
      viaProxy.port = String(proxy.port);
      viaProxy.hostname = "127.0.0.1";
      return viaProxy.toString();
    });
    const ok: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await consume(mp.consumeUrl, mp.tokens[i]!);
      if (r.status === 200) ok.push(r.clientReqId);
    }
    expect(ok).toHaveLength(20);

    proxy.cut();
    const outage: { status: number | "error"; code?: string; ms: number; clientReqId: string }[] = [];
    const until = Date.now() + 10_000;
    while (Date.now() < until) {
      const started = Date.now();
      const r = await consume(mp.consumeUrl, mp.tokens[outage.length % mp.tokens.length]!);
      outage.push({ ...r, ms: Date.now() - started });
    }
    proxy.restore();
    expect(outage.length).toBeGreaterThan(1);
    for (const r of outage) {
      expect(r.status, JSON.stringify(r)).toBe(503);
      expect(r.code).toBe("SERVICE_UNAVAILABLE");
      expect(r.ms).toBeLessThan(6_000); // pool connect timeout 5 s
    }

    // Recovery without a restart.
    let recovered = false;
    for (let i = 0; i < 50 && !recovered; i++) {
      const r = await consume(mp.consumeUrl, mp.tokens[i]!);
      if (r.status === 200) {
        ok.push(r.clientReqId);
        recovered = true;
      } else await new Promise((res) => setTimeout(res, 200));
    }
    expect(recovered).toBe(true);
    const rows = await ledgerRows(mp.db, [...ok, ...outage.map((r) => r.clientReqId)]);
    for (const id of ok) expect(rows.get(id)).toBe(1);
    for (const r of outage) expect(rows.get(r.clientReqId)).toBeUndefined();
    const totals = await accounting(mp.db, mp.agent.id);
    expect(totals.counters).toBe(totals.ledger);
  });
});
