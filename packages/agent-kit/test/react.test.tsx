/** @jsxImportSource react */
// @vitest-environment happy-dom
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { act, cleanup, render, screen, waitFor } from "@testing-library/react";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { MarketplaceProvider, UpgradePrompt, useSession, useTier, useUsage } from "../src/react.tsx";

/** A real local HTTP server answering like an agent backend; each route serves its queue of answers in turn. */
let server: Server;
let base = "";
const queues = new Map<string, { status: number; body: unknown }[]>();
const hits = new Map<string, number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    const cors = {
      "access-control-allow-origin": req.headers.origin ?? "*",
      "access-control-allow-credentials": "true",
      "access-control-allow-headers": "accept, x-requested-with, content-type",
    };
    if (req.method === "OPTIONS") return void res.writeHead(204, cors).end();
    const path = (req.url ?? "/").split("?")[0]!;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const queue = queues.get(path) ?? [];
    const answer = queue.length > 1 ? queue.shift()! : (queue[0] ?? { status: 404, body: {} });
    res.writeHead(answer.status, { "content-type": "application/json", ...cors });
    res.end(JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise((resolve) => server.close(resolve)));
afterEach(() => {
  cleanup();
  queues.clear();
  hits.clear();
});

function Status(props: { checkoutPolling?: boolean }) {
  const { user, isLoading } = useSession();
  const { tier, subscriptionRequired, isFinalizing } = useTier({ checkoutPolling: props.checkoutPolling });
  const { metrics } = useUsage();
  if (isLoading) return <p>loading</p>;
  return (
    <div>
      <p>user: {user ? user.name : "signed out"}</p>
      <p>tier: {tier ? tier.tierName : "none"}</p>
      {isFinalizing ? <p>finalizing</p> : null}
      <UpgradePrompt payload={subscriptionRequired} />
      <ul>
        {metrics.map((m) => (
          <li key={m.metricSlug}>
            {m.displayName}: {m.used}/{m.effectiveQuota ?? "∞"}
          </li>
        ))}
      </ul>
    </div>
  );
}

describe("agent-kit/react", () => {
  it("useSession, useTier and useUsage read the agent backend; a 402 renders the subscribe prompt", async () => {
    queues.set("/me", [
      { status: 200, body: { id: "u1", email: "a@b.c", name: "Ada", marketplaceRole: "org_member" } },
    ]);
    queues.set("/api/me/tier", [
      {
        status: 402,
        body: { error: "subscription_required", subscribe: true, upgradeUrl: "https://m.example/pricing/kb" },
      },
    ]);
    queues.set("/api/me/usage", [
      {
        status: 200,
        body: {
          metrics: [
            {
              metricSlug: "messages",
              displayName: "Questions",
              unit: "q",
              kind: "rolling",
              effectiveQuota: 20,
              used: 3,
              remaining: 17,
              resetsAt: null,
            },
          ],
        },
      },
    ]);
    render(
      <MarketplaceProvider apiBase={base}>
        <Status />
      </MarketplaceProvider>,
    );
    await screen.findByText("user: Ada");
    expect(await screen.findByRole("alert")).toHaveProperty(
      "textContent",
      expect.stringContaining("Subscribe"),
    );
    expect(screen.getByRole("link", { name: "See plans" }).getAttribute("href")).toBe(
      "https://m.example/pricing/kb",
    );
    await screen.findByText("Questions: 3/20");
  });

  it("a signed-out user is null, not an error", async () => {
    queues.set("/me", [{ status: 401, body: { error: "sign_in_required" } }]);
    queues.set("/api/me/tier", [{ status: 401, body: {} }]);
    render(
      <MarketplaceProvider apiBase={base}>
        <Status />
      </MarketplaceProvider>,
    );
    await screen.findByText("user: signed out");
  });

  it("after a checkout return, useTier polls until the new tier shows up", async () => {
    window.history.replaceState({}, "", "/?checkout=done");
    queues.set("/me", [
      { status: 200, body: { id: "u1", email: "a@b.c", name: "Ada", marketplaceRole: "org_member" } },
    ]);
    queues.set("/api/me/tier", [
      { status: 402, body: { error: "subscription_required", subscribe: true, upgradeUrl: "x" } },
      { status: 200, body: { tierName: "Pro", status: "active" } },
    ]);
    render(
      <MarketplaceProvider apiBase={base}>
        <Status />
      </MarketplaceProvider>,
    );
    await screen.findByText("finalizing");
    await waitFor(() => expect(screen.getByText("tier: Pro")).toBeTruthy(), { timeout: 5_000 });
    expect(hits.get("/api/me/tier")).toBeGreaterThanOrEqual(2);
    window.history.replaceState({}, "", "/");
  });

  it("checkoutPolling: false reads the tier once after a checkout return and does not poll", async () => {
    window.history.replaceState({}, "", "/?checkout=done");
    queues.set("/me", [
      { status: 200, body: { id: "u1", email: "a@b.c", name: "Ada", marketplaceRole: "org_member" } },
    ]);
    queues.set("/api/me/tier", [
      { status: 402, body: { error: "subscription_required", subscribe: true, upgradeUrl: "x" } },
      { status: 200, body: { tierName: "Pro", status: "active" } },
    ]);
    render(
      <MarketplaceProvider apiBase={base}>
        <Status checkoutPolling={false} />
      </MarketplaceProvider>,
    );
    await screen.findByText("finalizing");
    // More than two polling intervals (1.5 s): a polling useTier would have asked again and shown Pro.
    await new Promise((r) => setTimeout(r, 3_500));
    expect(hits.get("/api/me/tier")).toBe(1);
    expect(screen.getByText("tier: none")).toBeTruthy();
    window.history.replaceState({}, "", "/");
  });

  it("UpgradePrompt renders a 429 with its reset date and an upgrade link that returns to the agent", async () => {
    await act(async () => {
      render(
        <UpgradePrompt
          payload={{
            error: "quota_exceeded",
            upgradeUrl: "https://m.example/pricing/kb",
            resetsAt: "2026-12-23T00:00:00.000Z",
            remaining: 0,
          }}
          returnTo="http://localhost:3001/"
        />,
      );
    });
    expect(screen.getByRole("alert").textContent).toContain("resets on");
    expect(screen.getByRole("link", { name: "Upgrade your plan" }).getAttribute("href")).toBe(
      "https://m.example/pricing/kb?returnUrl=http%3A%2F%2Flocalhost%3A3001%2F",
    );
  });
});
