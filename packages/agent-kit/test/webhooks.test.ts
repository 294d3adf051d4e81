import { randomUUID } from "node:crypto";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "../../marketplace/test/support/webhook-receiver.ts";
import type { MarketplaceEvent } from "../src/index.ts";
import {
  type AgentStack,
  agentCall,
  signInToAgent,
  startAgentStack,
  subscribeFree,
} from "./support/stack.ts";

const applied: { event: MarketplaceEvent; userId: string | null }[] = [];
let failNext = false;
let s: AgentStack;
let hookUrl: string;

beforeAll(async () => {
  s = await startAgentStack({
    marketplaceEnv: { WEBHOOK_RETRY_DELAY_SECONDS: "1" },
    webhooks: {
      onEvent: (event, { userId }) => {
        if (failNext) {
          failNext = false;
          throw new Error("the agent's own logic failed");
        }
        applied.push({ event, userId });
      },
    },
  });
  hookUrl = `${s.agentUrl}/api/marketplace/webhooks`;
}, 90_000);
afterAll(() => s?.close());

/** A hand-made delivery, signed as the marketplace signs (standardwebhooks). */
function delivery(
  data: Partial<MarketplaceEvent["data"]>,
  opts: { secret?: string; at?: Date; id?: string; extraSecrets?: string[] } = {},
) {
  const id = opts.id ?? `evt_${randomUUID().replaceAll("-", "")}`;
  const body = JSON.stringify({
    id,
    type: "entitlements.updated",
    timestamp: new Date().toISOString(),
    data: { agentId: s.agent.id, sub: "sub-nobody", sequence: 1, ...data },
  });
  const at = opts.at ?? new Date();
  const secrets = [opts.secret ?? s.webhookSecret!, ...(opts.extraSecrets ?? [])];
  const signature = secrets.map((secret) => new Webhook(secret).sign(id, at, body)).join(" ");
  return {
    id,
    send: () =>
      fetch(hookUrl, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "webhook-id": id,
          "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
          "webhook-signature": signature,
        },
        body,
      }),
  };
}
const OTHER_SECRET = `whsec_${Buffer.from("another endpoint's secret, 32 b!").toString("base64")}`;

describe("kit.webhooks: the marketplace's events reach the agent", () => {
  it("a checkout's event drops the cached tier, runs onEvent with the agent's user, and reaches the browser stream", async () => {
    const user = await signInToAgent(s);
    const before = await agentCall(user.browser, `${s.agentUrl}/api/me/tier`);
    expect(before.status).toBe(402);
    // The browser's event stream (Server-Sent Events), with the agent session cookie.
    const controller = new AbortController();
    const cookie = [...user.browser.cookies].map(([k, v]) => `${k}=${v}`).join("; ");
    const stream = await fetch(`${s.agentUrl}/api/me/events`, {
      headers: { cookie },
      signal: controller.signal,
    });
    expect(stream.headers.get("content-type")).toContain("text/event-stream");
    const reader = stream.body!.getReader();
    let text = "";
    const heard = (async () => {
      while (!text.includes("event: marketplace")) {
        const { value, done } = await reader.read();
        if (done) break;
        text += Buffer.from(value).toString("utf8");
      }
    })();
    await subscribeFree(s, user.browser);
    const got = await waitFor("onEvent", () =>
      applied.find((a) => a.event.type === "subscription.created" && a.event.data.sub === user.userId),
    );
    expect(got.userId).toBe(user.agentUserId);
    await heard;
    controller.abort();
    expect(text).toContain('"type":"subscription.created"');
    // Without waiting out the tier cache: the next read asks the marketplace.
    const after = await agentCall(user.browser, `${s.agentUrl}/api/me/tier`);
    expect(after.status).toBe(200);
    expect(after.body.tierName).toBe("Free");
  });

  it("refuses a wrong secret, a stale or future timestamp, and a missing signature (401); applies nothing", async () => {
    const count = applied.length;
    expect((await delivery({}, { secret: OTHER_SECRET }).send()).status).toBe(401);
    expect((await delivery({}, { at: new Date(Date.now() - 10 * 60_000) }).send()).status).toBe(401);
    expect((await delivery({}, { at: new Date(Date.now() + 10 * 60_000) }).send()).status).toBe(401);
    const unsigned = await fetch(hookUrl, { method: "POST", body: "{}" });
    expect(unsigned.status).toBe(401);
    expect(applied.length).toBe(count);
  });

  it("during a rotation the delivery carries two signatures; the one the agent holds verifies", async () => {
    const sub = `sub-${randomUUID()}`;
    const both = delivery({ sub }, { secret: OTHER_SECRET, extraSecrets: [s.webhookSecret!] });
    expect((await both.send()).status).toBe(200);
    expect(applied.some((a) => a.event.id === both.id)).toBe(true);
  });

  it("is idempotent by event id and drops stale (reordered) sequence numbers", async () => {
    const sub = `sub-${randomUUID()}`;
    const third = delivery({ sub, sequence: 3 });
    expect(await (await third.send()).json()).toMatchObject({ outcome: "applied" });
    expect(await (await third.send()).json()).toMatchObject({ outcome: "duplicate" });
    const second = delivery({ sub, sequence: 2 });
    expect(await (await second.send()).json()).toMatchObject({ outcome: "stale" });
    const fourth = delivery({ sub, sequence: 4 });
    expect(await (await fourth.send()).json()).toMatchObject({ outcome: "applied" });
    const ids = applied.filter((a) => a.event.data.sub === sub).map((a) => a.event.data.sequence);
    expect(ids).toEqual([3, 4]);
  });

  it("a failing onEvent answers 500 and the retry applies the event once", async () => {
    const sub = `sub-${randomUUID()}`;
    const event = delivery({ sub, sequence: 1 });
    failNext = true;
    expect((await event.send()).status).toBe(500);
    expect(applied.some((a) => a.event.id === event.id)).toBe(false);
    expect(await (await event.send()).json()).toMatchObject({ outcome: "applied" });
    expect(await (await event.send()).json()).toMatchObject({ outcome: "duplicate" });
    expect(applied.filter((a) => a.event.id === event.id)).toHaveLength(1);
  });

  it("an event for another agent or a malformed body is a 400", async () => {
    expect((await delivery({ agentId: "someone-else" }).send()).status).toBe(400);
    expect((await delivery({ sequence: -1 }).send()).status).toBe(400);
  });

  it("the agent down at first still gets the event when the marketplace retries", async () => {
    const user = await signInToAgent(s);
    // Take the agent's route away for a moment: the marketplace sees failures, then success.
    const listeners = s.server.listeners("request");
    s.server.removeAllListeners("request");
    s.server.on("request", (_req, res) => res.writeHead(503).end());
    await subscribeFree(s, user.browser);
    // The marketplace's delivery log shows the failed attempt before the agent is back.
    const failed = await waitFor("a failed attempt", async () => {
      const { rows } = await s.t.mp.database.sql.query<{ lastStatusCode: number; status: string }>(
        `SELECT d."lastStatusCode", d.status FROM webhook_deliveries d
           JOIN webhook_events e ON e.id = d."eventId" WHERE e."userId" = $1`,
        [user.userId],
      );
      return rows[0]?.lastStatusCode === 503 ? rows[0] : undefined;
    });
    expect(failed.status).toBe("pending");
    expect(applied.some((a) => a.event.data.sub === user.userId)).toBe(false);
    s.server.removeAllListeners("request");
    for (const l of listeners) s.server.on("request", l as () => void);
    const got = await waitFor(
      "the retried event",
      () => {
        const found = applied.filter(
          (a) => a.event.type === "subscription.created" && a.event.data.sub === user.userId,
        );
        return found.length ? found : undefined;
      },
      30_000,
    );
    expect(got).toHaveLength(1);
  }, 60_000);
});
