import { mkdirSync, writeFileSync } from "node:fs";
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, launchChromium, runBrowser, sideways, startStack } from "./stack.ts";

const ARTIFACTS = new URL("./artifacts/", import.meta.url).pathname;
mkdirSync(ARTIFACTS, { recursive: true });

describe.skipIf(!runBrowser)("the whole system in a real browser (npm start + Chromium)", () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  let step = 0;
  const shot = (name: string) =>
    page.screenshot({ path: `${ARTIFACTS}${String(++step).padStart(2, "0")}-${name}.png`, fullPage: true });

  beforeAll(async () => {
    // Access tokens live 75 s and agent-kit refreshes 60 s early, so the story crosses a silent refresh.
    stack = await startStack({
      env: { ACCESS_TOKEN_TTL_SECONDS: "75" },
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
    page.on("console", (m) => m.type() === "error" && consoleErrors.push(m.text()));
    page.on("dialog", (d) => void d.accept());
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    // What `npm start`'s servers hold after the story (issue 13's memory goal; recorded, not asserted).
    if (stack) {
      const rss = await stack.rss();
      writeFileSync(`${ARTIFACTS}rss-after-story.json`, `${JSON.stringify(rss)}\n`);
      console.log(`RSS after the story (MB): ${JSON.stringify(rss)}`);
    }
    await stack?.stop();
  });

  it("signs in through the marketplace, uses the free tier to the cap, upgrades, and signs out", {
    timeout: 180_000,
  }, async () => {
    // Signed out → the agent's sign-in screen → the marketplace sign-in page.
    await page.goto(stack.agentUrl);
    await page.getByRole("button", { name: "Sign in with the marketplace" }).waitFor();
    await shot("agent-signed-out");
    await page.getByRole("button", { name: "Sign in with the marketplace" }).click();
    await page.waitForURL(`${stack.marketplaceUrl}/sign-in**`);
    await page.getByLabel("Email").fill("demo@example.com");
    await page.getByLabel("Password").fill("demo-password");
    await shot("marketplace-sign-in");
    await page.getByRole("button", { name: "Sign in" }).click();

    // Back in the agent with its own session, on Free.
    await page.waitForURL(`${stack.agentUrl}/**`);
    await expect.poll(() => page.getByTestId("tier-badge").textContent()).toBe("Free");
    const cookies = (await page.context().cookies()).map((c) => c.name);
    expect(cookies).toEqual(expect.arrayContaining(["marketplace.session_token", "agent.session_token"]));
    await shot("agent-free");

    // A knowledge base with a document, and a grounded, streamed answer with a citation.
    await page.getByLabel("New knowledge base").fill("Team handbook");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByRole("heading", { name: "Team handbook" }).waitFor();
    await page.getByLabel("Title").fill("Holidays");
    await page
      .getByLabel("Paste text or Markdown")
      .fill(
        "Everyone gets 28 days of paid holiday a year.\n\nHoliday requests go to your team lead at least two weeks ahead.",
      );
    await page.getByRole("button", { name: "Add document" }).click();
    await page.getByText("Documents (1)").waitFor();
    await page.getByLabel("Your question").fill("How many days of holiday do I get?");
    await page.getByRole("button", { name: "Ask", exact: true }).click();
    await page.getByText("28 days of paid holiday").first().waitFor();
    await page.getByText("[1] Holidays").first().waitFor();
    await page.getByTestId("voice-locked").first().waitFor();
    await shot("answer-with-citation");

    // The access token expires (75 s, refreshed 60 s early): the next actions refresh silently.
    await page.waitForTimeout(16_000);

    // Ask until the messages quota (20 on Free) runs out: the upgrade prompt appears.
    for (let i = 0; i < 25; i++) {
      if (await page.getByRole("link", { name: "Upgrade your plan" }).isVisible()) break;
      await page.getByLabel("Your question").fill(`When do holiday requests go in? (${i})`);
      await page.getByRole("button", { name: "Ask", exact: true }).click();
      await page.waitForFunction(() => !document.querySelector(".ask button")?.hasAttribute("disabled"));
    }
    await page.getByRole("link", { name: "Upgrade your plan" }).waitFor();
    await expect.poll(() => page.getByTestId("tier-badge").textContent()).toBe("Free");
    await shot("quota-exhausted");

    // Upgrade on the marketplace (development checkout) and come back: Pro, no new sign-in.
    await page.getByRole("link", { name: "Upgrade your plan" }).click();
    await page.waitForURL(`${stack.marketplaceUrl}/pricing/kb-assistant**`);
    const pro = page.getByRole("article", { name: "Pro plan" });
    await pro.getByRole("button", { name: "Upgrade" }).waitFor();
    await shot("marketplace-pricing");
    await pro.getByRole("button", { name: "Upgrade" }).click();
    await page.getByText("Development checkout").waitFor();
    await shot("dev-checkout");
    await page.getByRole("button", { name: "Confirm (no charge)" }).click();
    await page.waitForURL(`${stack.agentUrl}/**`);
    await expect.poll(() => page.getByTestId("tier-badge").textContent(), { timeout: 20_000 }).toBe("Pro");
    await page.getByTestId("voice-on").waitFor();
    await shot("agent-pro-voice");

    // Delete the knowledge base: its unit is released and the meter drops.
    await expect.poll(() => page.getByTestId("meter-knowledge-bases").getAttribute("value")).toBe("1");
    await page.getByRole("button", { name: "Delete knowledge base" }).click();
    await page.getByText("Create a knowledge base to begin.").waitFor();
    await expect.poll(() => page.getByTestId("meter-knowledge-bases").getAttribute("value")).toBe("0");

    // Sign out of the agent (the account menu).
    await page.getByRole("button", { name: /account menu/ }).click();
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("button", { name: "Sign in with the marketplace" }).waitFor();
    await shot("signed-out");

    expect(consoleErrors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });

  it("is usable at 375 px", { timeout: 60_000 }, async () => {
    const phone = await browser.newPage({ viewport: { width: 375, height: 740 } });
    await phone.goto(stack.agentUrl);
    await phone.getByRole("button", { name: "Sign in with the marketplace" }).waitFor();
    expect(await sideways(phone)).toBeLessThanOrEqual(0);
    await phone.goto(`${stack.marketplaceUrl}/pricing/kb-assistant`);
    await phone.getByRole("article", { name: "Pro plan" }).waitFor();
    expect(await sideways(phone)).toBeLessThanOrEqual(0);
    await phone.screenshot({ path: `${ARTIFACTS}20-pricing-375px.png`, fullPage: true });
    await phone.close();
  });
});

describe.skipIf(!runBrowser)("the same story with the web app on another origin (cross-origin mode)", () => {
  let stack: Awaited<ReturnType<typeof startStack>>;
  let browser: Browser;
  let webUrl: string;

  beforeAll(async () => {
    const webPort = await freePort();
    webUrl = `http://localhost:${webPort}`;
    stack = await startStack({ env: { CROSS_ORIGIN_WEB_PORT: String(webPort) } });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it("signs in back to the web app, works with credentials across origins, and signs out", {
    timeout: 120_000,
  }, async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on(
      "console",
      (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && errors.push(m.text()),
    );
    page.on("dialog", (d) => void d.accept());
    await page.goto(webUrl);
    await page.getByRole("button", { name: "Sign in with the marketplace" }).click();
    await page.waitForURL(`${stack.marketplaceUrl}/sign-in**`);
    await page.getByLabel("Email").fill("demo@example.com");
    await page.getByLabel("Password").fill("demo-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${webUrl}/**`);
    await expect.poll(() => page.getByTestId("tier-badge").textContent()).toBe("Free");
    const session = (await page.context().cookies(stack.agentUrl)).find((c) =>
      c.name.endsWith("agent.session_token"),
    )!;
    expect(session).toMatchObject({ sameSite: "None", secure: true, httpOnly: true });

    await page.getByLabel("New knowledge base").fill("Cross-origin notes");
    await page.getByRole("button", { name: "Create", exact: true }).click();
    await page.getByLabel("Title").fill("Origins");
    await page
      .getByLabel("Paste text or Markdown")
      .fill("The web app and the API live on different origins.");
    await page.getByRole("button", { name: "Add document" }).click();
    await page.getByText("Documents (1)").waitFor();
    await page.getByLabel("Your question").fill("Where do the web app and the API live?");
    await page.getByRole("button", { name: "Ask", exact: true }).click();
    await page.getByText("different origins").first().waitFor();
    await page.screenshot({ path: `${ARTIFACTS}30-cross-origin-answer.png`, fullPage: true });

    await page.getByRole("button", { name: "Delete knowledge base" }).click();
    await page.getByText("Create a knowledge base to begin.").waitFor();
    await page.getByRole("button", { name: /account menu/ }).click();
    await page.getByRole("button", { name: "Sign out", exact: true }).click();
    await page.getByRole("button", { name: "Sign in with the marketplace" }).waitFor();
    expect(errors).toEqual([]);
  });
});
