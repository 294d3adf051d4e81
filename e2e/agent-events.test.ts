import type { BrowserContext, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserStack, runBrowser } from "./stack.ts";

/**
 * Issue 14 end to end: `npm start` registers the demo agent's webhook endpoint and hands its secret to the
 * agent, the agent mounts `mp.webhooks()`, and its open page (`useMarketplaceEvents()`, checkout polling off
 * while the stream is connected) shows an upgrade, a cancellation and a granted addon without a reload.
 * The agent page stays open in its own tab while the changes happen in another, so nothing but the pushed
 * event can refresh it (it is not returning from checkout, and it is never reloaded).
 */
const USER = { email: "demo@example.com", password: "demo-password" };
const ADMIN = { email: "admin@example.com", password: "admin-password" };
/** The bound: the agent page shows the change within one second of the marketplace confirming it. */
const WITHIN_MS = 1_000;

describe.skipIf(!runBrowser)("marketplace events reach the open agent page (npm start + Chromium)", () => {
  const e2e = browserStack();

  /** A marketplace API call from a signed-in marketplace page (same origin, its cookie, the envelope's data). */
  const call = <T>(page: Page, method: string, path: string, body?: unknown) =>
    page.evaluate(
      async ({ method, path, body }) => {
        const response = await fetch(path, {
          method,
          credentials: "include",
          headers: { accept: "application/json", ...(body ? { "content-type": "application/json" } : {}) },
          body: body ? JSON.stringify(body) : undefined,
        });
        const envelope = await response.json();
        if (!response.ok)
          throw new Error(`${method} ${path}: ${response.status} ${JSON.stringify(envelope)}`);
        return envelope.data;
      },
      { method, path, body },
    ) as Promise<T>;

  async function marketplaceSignIn(context: BrowserContext, who: typeof USER) {
    const page = await context.newPage();
    await page.goto(`${e2e.stack.marketplaceUrl}/sign-in?next=${encodeURIComponent("/account")}`);
    await page.getByLabel("Email").fill(who.email);
    await page.getByLabel("Password").fill(who.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/account**`);
    return page;
  }

  it("upgrade, cancellation and addon show on the open agent page within a second, without reload", {
    timeout: 180_000,
  }, async () => {
    const context = await e2e.browser.newContext({ viewport: { width: 1200, height: 900 } });
    // The agent tab: signed in through the marketplace, on Free, with its event stream open.
    const agent = await context.newPage();
    const errors: string[] = [];
    agent.on("pageerror", (e) => errors.push(String(e)));
    let loads = 0;
    agent.on("load", () => loads++);
    const stream = agent.waitForResponse((r) => r.url() === `${e2e.stack.agentUrl}/api/me/events`, {
      timeout: 60_000,
    });
    await agent.goto(e2e.stack.agentUrl);
    await agent.getByRole("button", { name: "Sign in with the marketplace" }).click();
    await agent.waitForURL(`${e2e.stack.marketplaceUrl}/sign-in**`);
    await agent.getByLabel("Email").fill(USER.email);
    await agent.getByLabel("Password").fill(USER.password);
    await agent.getByRole("button", { name: "Sign in" }).click();
    await agent.waitForURL(`${e2e.stack.agentUrl}/**`);
    await expect.poll(() => agent.getByTestId("tier-badge").textContent()).toBe("Free");
    await expect.poll(() => agent.getByTestId("meter-messages").getAttribute("max")).toBe("20");
    // The stream is connected before anything changes (the agent serves it only with webhooks mounted).
    expect((await stream).status()).toBe(200);
    const loadsBefore = loads;

    // 1. Upgrade through the development checkout in another tab (same browser: the marketplace session).
    const shop = await context.newPage();
    await shop.goto(`${e2e.stack.marketplaceUrl}/pricing/kb-assistant`);
    const pro = shop.getByRole("article", { name: "Pro plan" });
    await pro.getByRole("button", { name: "Upgrade" }).click();
    await shop.getByText("Development checkout").waitFor();
    // The marketplace's answer to the confirmation (a redirect back to the agent, the subscription committed).
    const confirmed = shop.waitForResponse(
      (r) => r.request().method() === "POST" && r.url() === `${e2e.stack.marketplaceUrl}/dev-checkout`,
    );
    await shop.getByRole("button", { name: "Confirm (no charge)" }).click();
    expect((await confirmed).status()).toBeLessThan(400);
    await expect
      .poll(() => agent.getByTestId("tier-badge").textContent(), { timeout: WITHIN_MS, interval: 50 })
      .toBe("Pro");
    await expect.poll(() => agent.getByTestId("meter-messages").getAttribute("max")).toBe("1000");
    await shop.close();

    // 2. Cancel (a paid plan ends at its period end): the open page says so.
    const account = await marketplaceSignIn(context, USER);
    const { id: agentId } = await call<{ id: string }>(account, "GET", "/agents/by-slug/kb-assistant");
    const { id: subscriptionId } = await call<{ id: string }>(account, "GET", `/me/subscriptions/${agentId}`);
    await call(account, "POST", `/me/subscriptions/${agentId}/cancel`);
    await expect
      .poll(() => agent.getByTestId("plan-ends").isVisible(), { timeout: WITHIN_MS, interval: 50 })
      .toBe(true);
    expect(await agent.getByTestId("tier-badge").textContent()).toBe("Pro");

    // 3. A platform admin grants 50 questions (admin API): the meter's allowance grows.
    const admin = await marketplaceSignIn(await e2e.browser.newContext(), ADMIN);
    await call(admin, "POST", `/admin/subscriptions/${subscriptionId}/addons`, {
      metricSlug: "messages",
      amount: 50,
      scope: "permanent",
    });
    await expect
      .poll(() => agent.getByTestId("meter-messages").getAttribute("max"), {
        timeout: WITHIN_MS,
        interval: 50,
      })
      .toBe("1050");

    expect(loads, "the agent page was never reloaded").toBe(loadsBefore);
    expect(errors).toEqual([]);
    await admin.context().close();
    await context.close();
  });
});
