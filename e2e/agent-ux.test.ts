import { mkdirSync } from "node:fs";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { browserStack, runBrowser, sideways } from "./stack.ts";

/** The reference agent's UX (issue 12 item 3) in Chromium against `npm start`, at a desktop and a phone width. */
const SHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });

const HOLIDAYS = [
  "# Holidays",
  'Everyone gets 28 days of paid holiday a year. <img src=x onerror="window.__xss=1"> See [the policy](https://example.com/policy) and [this](javascript:window.__xss=2).',
  "Holiday requests go to your team lead at least two weeks ahead.",
  ...Array.from(
    { length: 30 },
    (_, i) => `Filler paragraph ${i + 1} about unrelated office matters such as desks and plants.`,
  ),
  "Carry-over: up to five unused days move to the next year.",
].join("\n\n");

/**
 * States that are about what is on screen (a modal dialog over the page, a prompt at the composer): a viewport
 * screenshot, since a full-page one shows the overlay starting halfway down a tall page. Others are full-page.
 */
const ON_SCREEN = new Set(["quota-at-composer", "citation-viewer", "document-viewer"]);

const WIDTHS = [
  { name: "desktop", width: 1280, height: 900 },
  { name: "phone", width: 390, height: 844 },
] as const;

describe.skipIf(!runBrowser)("the reference agent's UX in a real browser", () => {
  const e2e = browserStack(() => ({}), 120_000);

  describe.each(WIDTHS)("at $width px ($name)", ({ name, width, height }) => {
    let context: BrowserContext;
    let page: Page;
    const errors: string[] = [];
    const elsewhere: string[] = [];
    const shot = (state: string) =>
      page.screenshot({
        path: `${SHOTS}agent-${name}-${state}.png`,
        fullPage: !ON_SCREEN.has(state),
      });
    /** No sideways scrolling, in whatever state the page is. */
    const noSidewaysScroll = async () => expect(await sideways(page)).toBeLessThanOrEqual(0);
    // Each width is its own marketplace user, so each starts on Free with a full allowance.
    const email = `ux-${name}-${Date.now()}@example.com`;

    beforeAll(async () => {
      context = await e2e.browser.newContext({ viewport: { width, height } });
      page = await context.newPage();
      // The agent's pages must log no errors; other origins' messages are kept apart (the marketplace has its own suite).
      page.on("console", (m) => {
        if (m.type() !== "error" || /Failed to load resource/.test(m.text())) return;
        (page.url().startsWith(e2e.stack.agentUrl) ? errors : elsewhere).push(`${page.url()}: ${m.text()}`);
      });
      page.on("pageerror", (e) => errors.push(e.message));
      page.on("dialog", (d) => void d.accept());
    });
    afterAll(async () => {
      await context?.close();
    });

    const signInForm = async () => {
      await page.waitForURL(`${e2e.stack.marketplaceUrl}/sign-in**`);
      await page.getByLabel("Email").waitFor();
    };
    /** Opens or folds the documents section (a <details>). */
    const showDocuments = async (open: boolean) => {
      const details = page.locator("details.documents");
      if ((await details.evaluate((d) => (d as HTMLDetailsElement).open)) !== open)
        await details.locator("summary").click();
    };
    const openMenu = async () => {
      if (await page.getByRole("region", { name: "Account" }).isVisible()) return;
      await page.getByRole("button", { name: /account menu/ }).click();
      await page.getByRole("region", { name: "Account" }).waitFor();
    };

    it("signs up through the marketplace and lands on Free", { timeout: 60_000 }, async () => {
      await page.goto(e2e.stack.agentUrl);
      await page.getByRole("button", { name: "Sign in with the marketplace" }).click();
      await signInForm();
      await noSidewaysScroll();
      await page.getByRole("link", { name: "Create an account" }).click();
      await page.getByLabel("Name").fill(`UX ${name}`);
      await page.getByLabel("Email").fill(email);
      await page.getByLabel(/Password/).fill("ux-password-123");
      await page.getByRole("button", { name: "Create account" }).click();
      // A new user may be asked to allow the agent, and may have to pick the Free plan first.
      await page.waitForURL((url) => url.origin === e2e.stack.agentUrl || url.pathname === "/consent", {
        timeout: 20_000,
      });
      if (new URL(page.url()).pathname === "/consent")
        await page.getByRole("button", { name: "Allow" }).click();
      await page.waitForURL(`${e2e.stack.agentUrl}/**`);
      // A new user has no plan yet: the agent says so and links to the plans.
      await page.getByRole("heading", { name: "Choose a plan" }).waitFor({ timeout: 20_000 });
      await noSidewaysScroll();
      await shot("choose-plan");
      await page.getByRole("link", { name: "See plans" }).click();
      await page.waitForURL(`${e2e.stack.marketplaceUrl}/pricing/kb-assistant**`);
      // The server-rendered pricing page says "Choose Free"; the marketplace web app says "Start free".
      await page
        .getByRole("button", { name: /^(Choose Free|Start free)$/ })
        .first()
        .click();
      await page.waitForURL(`${e2e.stack.agentUrl}/**`);
      await expect.poll(() => page.getByTestId("tier-badge").textContent(), { timeout: 20_000 }).toBe("Free");
      await noSidewaysScroll();
      await shot("signed-in");
    });

    it("Ask is disabled while a question runs; the answer is Markdown without raw HTML; a citation opens its passage", {
      timeout: 60_000,
    }, async () => {
      await page.getByLabel("New knowledge base").fill("Team handbook");
      await page.getByRole("button", { name: "Create", exact: true }).click();
      await page.getByRole("heading", { name: "Team handbook" }).waitFor();
      await page.getByLabel("Title").fill("Holidays");
      await page.getByLabel("Paste text or Markdown").fill(HOLIDAYS);
      await page.getByRole("button", { name: "Add document" }).click();
      await page.getByText("Documents (1)").waitFor();

      // Hold the answer back so the running state can be seen.
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      await page.route("**/api/kbs/*/ask", async (route) => {
        await held;
        await route.continue();
      });
      await page.getByLabel("Your question").fill("How many days of paid holiday do I get?");
      await page.getByRole("button", { name: "Ask", exact: true }).click();
      const asking = page.getByRole("button", { name: "Asking…" });
      await asking.waitFor();
      expect(await asking.isDisabled()).toBe(true);
      // Enter in the box does not send a second question either.
      await page.getByLabel("Your question").fill("A second question");
      await page.getByLabel("Your question").press("Enter");
      release();
      const answer = page.locator(".chat li.assistant").last();
      await answer.getByText("28 days of paid holiday").waitFor();
      await page.unroute("**/api/kbs/*/ask");
      await page.getByRole("button", { name: "Ask", exact: true }).waitFor();
      expect(await page.getByRole("button", { name: "Ask", exact: true }).isEnabled()).toBe(true);
      expect(await page.locator(".chat li.user").count()).toBe(1);

      // Markdown: the quote is a blockquote (no raw ">"), links are safe, raw HTML is not rendered.
      expect(await answer.locator("blockquote").count()).toBeGreaterThan(0);
      expect(await answer.textContent()).not.toMatch(/^\s*>/m);
      const link = answer.getByRole("link", { name: "the policy" });
      expect(await link.getAttribute("href")).toBe("https://example.com/policy");
      expect(await link.getAttribute("rel")).toBe("noopener noreferrer");
      expect(await page.locator(".chat img").count()).toBe(0);
      expect(await page.locator('.chat a[href^="javascript:"]').count()).toBe(0);
      expect(await page.evaluate(() => (window as { __xss?: number }).__xss)).toBeUndefined();
      await noSidewaysScroll();
      await shot("answer-markdown");

      // The citation opens the document with the cited passage marked and scrolled into view.
      await answer.getByRole("button", { name: "[1] Holidays" }).click();
      const viewer = page.getByRole("dialog", { name: "Holidays" });
      await viewer.waitFor();
      const cited = viewer.getByTestId("cited-passage");
      await cited.waitFor();
      expect(await cited.textContent()).toContain("28 days of paid holiday");
      await expect
        .poll(() =>
          cited.evaluate((el) => {
            const box = el.getBoundingClientRect();
            return box.top >= 0 && box.bottom <= window.innerHeight;
          }),
        )
        .toBe(true);
      await noSidewaysScroll();
      await shot("citation-viewer");
      await viewer.getByRole("button", { name: "Close" }).click();
      await viewer.waitFor({ state: "hidden" });
    });

    it("documents can be listed, viewed, renamed and deleted", { timeout: 60_000 }, async () => {
      await showDocuments(true);
      await page.getByLabel("Title").fill("Parking");
      await page.getByLabel("Paste text or Markdown").fill("Parking is free for bicycles.");
      await page.getByRole("button", { name: "Add document" }).click();
      await page.getByText("Documents (2)").waitFor();
      const list = page.getByRole("list", { name: "Documents" });
      expect(await list.getByRole("listitem").count()).toBe(2);

      await page.getByRole("button", { name: "View Parking" }).click();
      const viewer = page.getByRole("dialog", { name: "Parking" });
      await viewer.getByText("Parking is free for bicycles.").waitFor();
      expect(await viewer.getByTestId("cited-passage").count()).toBe(0);
      await shot("document-viewer");
      await page.keyboard.press("Escape");
      await viewer.waitFor({ state: "hidden" });

      await page.getByRole("button", { name: "Rename Parking" }).click();
      const title = page.getByLabel("New title for Parking");
      await title.fill("   ");
      await page.getByRole("button", { name: "Save" }).click();
      // Blank after trimming: the server's 400 is shown by the field, which stays open; typing clears it.
      await page.getByRole("alert").filter({ hasText: "a title is required" }).waitFor();
      expect(await title.getAttribute("aria-invalid")).toBe("true");
      await shot("document-rename-error");
      await title.fill("Bicycle parking");
      expect(await page.getByRole("alert").filter({ hasText: "a title is required" }).count()).toBe(0);
      await noSidewaysScroll();
      await shot("document-rename");
      await page.getByRole("button", { name: "Save" }).click();
      await page.getByRole("button", { name: "View Bicycle parking" }).waitFor();
      // The rename is stored: a reload shows it.
      await page.reload();
      await page.getByText("Documents (2)").waitFor();
      await showDocuments(true);
      await page.getByRole("button", { name: "View Bicycle parking" }).waitFor();

      await page.getByRole("button", { name: "Delete Bicycle parking" }).click();
      await page.getByText("Documents (1)").waitFor();
      expect(await page.getByRole("button", { name: "View Bicycle parking" }).count()).toBe(0);
      await shot("documents");
    });

    it("past the quota the question stays in the box and the upgrade prompt is at the composer", {
      timeout: 120_000,
    }, async () => {
      await showDocuments(false); // fold the documents away, as a user would
      const question = page.getByLabel("Your question");
      const prompt = page.getByRole("link", { name: "Upgrade your plan" });
      for (let i = 0; i < 25 && !(await prompt.isVisible()); i++) {
        await question.fill(`When do holiday requests go in? (${i})`);
        await page.getByRole("button", { name: "Ask", exact: true }).click();
        await page.getByRole("button", { name: "Ask", exact: true }).waitFor();
      }
      await prompt.waitFor();
      expect(await question.inputValue()).toMatch(/^When do holiday requests go in\? \(\d+\)$/);
      // The prompt is on screen, right above the box the user typed in.
      const [p, q] = [await prompt.boundingBox(), await question.boundingBox()];
      expect(p && q).toBeTruthy();
      expect(p!.y).toBeGreaterThanOrEqual(0);
      expect(q!.y + q!.height).toBeLessThanOrEqual(height + 1); // sub-pixel layout
      expect(q!.y - (p!.y + p!.height)).toBeLessThan(150);
      expect(await prompt.getAttribute("href")).toContain(
        `${e2e.stack.marketplaceUrl}/pricing/kb-assistant?returnUrl=`,
      );
      await noSidewaysScroll();
      await shot("quota-at-composer");
    });

    it("the account menu links to plan and usage; signing out of the agent only signs straight back in", {
      timeout: 60_000,
    }, async () => {
      await openMenu();
      expect(await page.getByRole("link", { name: "Plan and usage", exact: true }).getAttribute("href")).toBe(
        `${e2e.stack.marketplaceUrl}/account`,
      );
      expect(await page.getByRole("link", { name: "Compare plans" }).getAttribute("href")).toBe(
        `${e2e.stack.marketplaceUrl}/pricing/kb-assistant`,
      );
      await noSidewaysScroll();
      await shot("account-menu");
      await page.keyboard.press("Escape");
      await page.getByRole("region", { name: "Account" }).waitFor({ state: "hidden" });

      // A failed sign-out (server error, or no network) is said by the menu, and the user stays signed in.
      await page.route("**/api/auth/sign-out**", (route) =>
        route.request().url().includes("marketplace=true")
          ? route.abort("failed")
          : route.fulfill({ status: 500, json: { error: "internal" } }),
      );
      await openMenu();
      const menu = page.getByRole("region", { name: "Account" });
      for (const [button, why] of [
        ["Sign out", "the agent answered 500"],
        ["Sign out of the marketplace too", "the agent could not be reached"],
      ]) {
        await menu.getByRole("button", { name: button, exact: true }).click();
        await menu
          .getByRole("alert")
          .filter({ hasText: `Signing out failed: ${why}.` })
          .waitFor();
        expect(await menu.getByRole("button", { name: button, exact: true }).isEnabled()).toBe(true);
        expect(await page.getByTestId("tier-badge").textContent()).toBe("Free");
      }
      await noSidewaysScroll();
      await shot("sign-out-failed");
      await page.unroute("**/api/auth/sign-out**");
      expect(errors).toEqual([]); // no unhandled rejection

      await menu.getByRole("button", { name: "Sign out", exact: true }).click();
      await page.getByRole("button", { name: "Sign in with the marketplace" }).click();
      // The marketplace session is still there: back in without a password.
      await page.waitForURL(`${e2e.stack.agentUrl}/**`);
      await expect.poll(() => page.getByTestId("tier-badge").textContent(), { timeout: 20_000 }).toBe("Free");
    });

    it("signing out of the marketplace too makes the next sign-in ask for credentials", {
      timeout: 60_000,
    }, async () => {
      await openMenu();
      await page.getByRole("button", { name: "Sign out of the marketplace too" }).click();
      await page.getByRole("button", { name: "Sign in with the marketplace" }).waitFor({ timeout: 20_000 });
      expect(new URL(page.url()).origin).toBe(e2e.stack.agentUrl);
      const cookies = (await context.cookies()).map((c) => c.name);
      expect(cookies).not.toContain("marketplace.session_token");
      expect(cookies).not.toContain("agent.session_token");
      await shot("signed-out");
      await page.getByRole("button", { name: "Sign in with the marketplace" }).click();
      await signInForm();
      await page.getByLabel("Email").fill(email);
      await page.getByLabel("Password").fill("ux-password-123");
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.waitForURL(`${e2e.stack.agentUrl}/**`);
      await expect.poll(() => page.getByTestId("tier-badge").textContent(), { timeout: 20_000 }).toBe("Free");
      expect(errors).toEqual([]);
      if (elsewhere.length) console.warn(`console errors on other origins:\n${elsewhere.join("\n")}`);
    });
  });
});
