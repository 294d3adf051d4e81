import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserStack, freePort, runBrowser, sideways } from "./stack.ts";

/**
 * The marketplace web app in a real browser against `npm start` (issue 12):
 * a visitor finds the demo agent from / by clicking; a new subscriber signs up
 * from the agent page, subscribes, and manages the plan from the account page
 * (upgrade, cancel at period end with confirmation, resume, downgrade, keep);
 * unknown paths get the HTML 404 page; every page fits 1280 px and 390 px with
 * no sideways scroll. Screenshots land in e2e/artifacts/ (docs/screenshots/
 * holds the reviewed copies).
 */
const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });
const WIDTHS = [1280, 390] as const;

describe.skipIf(!runBrowser)("the marketplace web app (npm start + Chromium)", () => {
  const e2e = browserStack(() => ({}), 180_000);

  async function open(width: number) {
    const context = await e2e.browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("console", (m) => {
      // 401 from /me (a visitor) and the 404 page's own status are expected resource errors.
      if (m.type() === "error" && !/Failed to load resource/.test(m.text())) errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    return { page, errors };
  }
  const shot = async (page: Page, name: string) => {
    expect(await sideways(page), `${name} scrolls sideways`).toBeLessThanOrEqual(0);
    const width = page.viewportSize()!.width;
    await page.screenshot({ path: `${ARTIFACTS}web-${width}-${name}.png`, fullPage: true });
  };

  for (const width of WIDTHS) {
    it(`${width} px: a visitor finds the demo agent from / by clicking; unknown paths get the HTML 404 page`, {
      timeout: 60_000,
    }, async () => {
      const { page, errors } = await open(width);
      await page.goto(e2e.stack.marketplaceUrl);
      const card = page.getByTestId("agent-card").filter({ hasText: "Knowledge Base Assistant" });
      await card.getByText("Free plan available").waitFor();
      await shot(page, "catalog");

      // Search narrows the catalog; the featured filter keeps the (featured) demo agent.
      await page.getByLabel("Search agents").fill("no such agent at all");
      await page.getByText("No agent matches your search.").waitFor();
      await page.getByLabel("Search agents").fill("knowledge");
      await page.getByRole("button", { name: "Featured" }).click();
      await card.click();

      await page.waitForURL(`${e2e.stack.marketplaceUrl}/agent/kb-assistant`);
      await page.getByRole("heading", { name: "Knowledge Base Assistant", level: 1 }).waitFor();
      const free = page.getByRole("article", { name: "Free plan" });
      const pro = page.getByRole("article", { name: "Pro plan" });
      await free.getByText("20 questions per month").waitFor();
      await expect.poll(() => free.getByText("Voice replies").textContent()).toContain("not included");
      await pro.getByText("1,000 questions per month").waitFor();
      await pro.getByText("$19 / month").waitFor();
      expect(await page.getByRole("link", { name: "Open agent" }).getAttribute("href")).toBe(
        e2e.stack.agentUrl,
      );
      await shot(page, "agent");

      // The agents' upgrade link (/pricing/<slug>) is the same page.
      await page.goto(`${e2e.stack.marketplaceUrl}/pricing/kb-assistant`);
      await page.getByRole("heading", { name: "Plans" }).waitFor();

      const missing = await page.goto(`${e2e.stack.marketplaceUrl}/no/such/page`);
      expect(missing!.status()).toBe(404);
      expect(missing!.headers()["content-type"]).toContain("text/html");
      await page.getByRole("heading", { name: "Page not found" }).waitFor();
      await shot(page, "404");
      await page.getByRole("link", { name: "Browse the catalog" }).click();
      await page.getByRole("heading", { name: "Find an agent" }).waitFor();
      expect(errors).toEqual([]);
      await page.context().close();
    });
  }

  it("a new subscriber signs up from the agent page, subscribes and manages the plan from the account page", {
    timeout: 150_000,
  }, async () => {
    const { page, errors } = await open(1280);
    const email = `web-${Date.now()}@example.com`;
    await page.goto(`${e2e.stack.marketplaceUrl}/agent/kb-assistant`);
    await page
      .getByRole("article", { name: "Free plan" })
      .getByRole("link", { name: "Sign in to subscribe" })
      .click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/sign-in**`);
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/sign-up**`);
    await page.getByLabel("Name").fill("Web Subscriber");
    await page.getByLabel("Email").fill(email);
    await page.getByLabel(/Password/).fill("a-long-enough-password");
    await shot(page, "sign-up");
    await page.getByRole("button", { name: "Create account" }).click();

    // Back on the agent page, signed in: subscribe to Free, land on the account page.
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/agent/kb-assistant**`);
    await page
      .getByRole("article", { name: "Free plan" })
      .getByRole("button", { name: "Start free" })
      .click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/account`);

    // The account page is reached by a link from every page: go away and come back through the nav.
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Catalog" }).click();
    await page.getByRole("heading", { name: "Find an agent" }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/account`);

    const sub = page.getByTestId("subscription");
    const renewal = sub.getByTestId("renewal");
    await expect.poll(() => sub.getByTestId("plan-name").textContent()).toBe("Free");
    // Free shows no "renews": its usage resets.
    await expect.poll(() => renewal.textContent()).toMatch(/^Free plan\. Usage resets on /);
    await sub.getByText("0 of 20 questions used").waitFor();

    // Upgrade now: through the (development) checkout, back to the account page on Pro.
    await sub.getByRole("button", { name: "Upgrade to Pro" }).click();
    await page.getByText("Development checkout").waitFor();
    await page.getByRole("button", { name: "Confirm (no charge)" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/account`);
    await expect.poll(() => sub.getByTestId("plan-name").textContent()).toBe("Pro");
    await expect.poll(() => renewal.textContent()).toMatch(/^Renews on /);
    await sub.getByText("0 of 1,000 questions used").waitFor();
    await shot(page, "account-pro");

    // Cancel asks first; "Keep my plan" changes nothing.
    await sub.getByRole("button", { name: "Cancel subscription" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByText(/You keep Pro until /).waitFor();
    await shot(page, "cancel-confirm");
    await dialog.getByRole("button", { name: "Keep my plan" }).click();
    await expect.poll(() => renewal.textContent()).toMatch(/^Renews on /);
    // Confirmed: it ends at the period end, still Pro until then.
    await sub.getByRole("button", { name: "Cancel subscription" }).click();
    await dialog.getByRole("button", { name: "Cancel at period end" }).click();
    await expect.poll(() => renewal.textContent()).toMatch(/^Ends on /);
    expect(await sub.getByTestId("plan-name").textContent()).toBe("Pro");
    await shot(page, "account-ending");
    await sub.getByRole("button", { name: "Resume subscription" }).click();
    await expect.poll(() => renewal.textContent()).toMatch(/^Renews on /);

    // Downgrade to Free: scheduled for the period end (not "cancel first"), and undone with "Keep Pro".
    await sub.getByRole("button", { name: "Switch to Free" }).click();
    await expect.poll(() => renewal.textContent()).toMatch(/^Changes to Free on /);
    expect(await sub.getByTestId("plan-name").textContent()).toBe("Pro");
    await shot(page, "account-downgrade-scheduled");
    await sub.getByRole("button", { name: "Keep Pro" }).click();
    await expect.poll(() => renewal.textContent()).toMatch(/^Renews on /);

    // The profile: a new name is saved through the API and shown after a reload.
    await page.getByLabel("Name", { exact: true }).fill("Renamed Subscriber");
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByText("Saved.").waitFor();
    await page.reload();
    await expect.poll(() => page.getByLabel("Name", { exact: true }).inputValue()).toBe("Renamed Subscriber");

    // Sign out: the nav offers Sign in again and the account page asks for it.
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).first().waitFor();
    await page.goto(`${e2e.stack.marketplaceUrl}/account`);
    await page.getByText("Sign in to see your subscriptions").waitFor();
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("390 px: the account page and the hosted sign-in fit a phone", { timeout: 60_000 }, async () => {
    const { page } = await open(390);
    await page.goto(`${e2e.stack.marketplaceUrl}/sign-in?next=%2Faccount`);
    await shot(page, "sign-in");
    await page.getByLabel("Email").fill("demo@example.com");
    await page.getByLabel("Password").fill("demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/account`);
    await expect.poll(() => page.getByTestId("plan-name").textContent()).toBe("Free");
    await page.getByRole("button", { name: "Upgrade to Pro" }).waitFor();
    await shot(page, "account");
    // The console is linked only for platform admins.
    expect(await page.getByRole("link", { name: "Console" }).count()).toBe(0);
    await page.context().close();
  });

  it("a platform admin sees the Console link in the navigation", { timeout: 60_000 }, async () => {
    const { page } = await open(1280);
    await page.goto(`${e2e.stack.marketplaceUrl}/sign-in?next=%2F`);
    await page.getByLabel("Email").fill("admin@example.com");
    await page.getByLabel("Password").fill("admin-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/`);
    const consoleLink = page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Console" });
    await consoleLink.waitFor();
    expect(await consoleLink.getAttribute("href")).toBe("/console");
    await page.context().close();
  });
});

describe.skipIf(!runBrowser)("the marketplace web app on another origin (MARKETPLACE_UI_ORIGIN)", () => {
  let uiUrl: string;
  const e2e = browserStack(async () => {
    const port = await freePort();
    uiUrl = `http://localhost:${port}`;
    // Its own build of the app (against the marketplace's absolute URL) comes first: give it time.
    return { env: { CROSS_ORIGIN_MARKETPLACE_UI_PORT: String(port) }, readyTimeoutMs: 200_000 };
  });

  it("signs in on the marketplace and comes back to the UI origin, reads the account with credentials, signs out", {
    timeout: 90_000,
  }, async () => {
    const page = await e2e.browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    await page.goto(`${uiUrl}/account`);
    await page.getByRole("link", { name: "Sign in" }).last().click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}/sign-in**`);
    await page.getByLabel("Email").fill("demo@example.com");
    await page.getByLabel("Password").fill("demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${uiUrl}/account`);
    await expect.poll(() => page.getByTestId("plan-name").textContent(), { timeout: 15_000 }).toBe("Free");
    const session = (await page.context().cookies(e2e.stack.marketplaceUrl)).find((c) =>
      c.name.endsWith("session_token"),
    )!;
    expect(session).toMatchObject({ sameSite: "None", secure: true, httpOnly: true });
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("link", { name: "Sign in" }).first().waitFor();
    expect(errors).toEqual([]);
  });
});
