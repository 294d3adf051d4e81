import { mkdirSync } from "node:fs";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { browserStack, runBrowser, sideways } from "./stack.ts";

/**
 * The operator console in a real browser against `npm start` (issue 12 item 2):
 * the demo platform admin runs a listing's whole lifecycle without the CLI
 * (create, metric, tier + quota, activate, partial edit, deactivate,
 * reactivate), finds a user's subscription by email and grants an addon; a
 * member gets no console link and a refusal on /console. Every console page
 * fits 1280 px and 390 px; screenshots go to docs/screenshots/console-*.png.
 */
const SHOTS = new URL("../docs/screenshots/", import.meta.url).pathname;
mkdirSync(SHOTS, { recursive: true });
const ADMIN = { email: "admin@example.com", password: "admin-password" };
const MEMBER = { email: "demo@example.com", password: "demo-password" };

describe.skipIf(!runBrowser)("the operator console (npm start + Chromium)", () => {
  const e2e = browserStack();

  async function signedIn(who: { email: string; password: string }, width: number, next = "/console") {
    const context = await e2e.browser.newContext({ viewport: { width, height: 900 } });
    const page = await context.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("dialog", (d) => void d.accept());
    await page.goto(`${e2e.stack.marketplaceUrl}/sign-in?next=${encodeURIComponent(next)}`);
    await page.getByLabel("Email").fill(who.email);
    await page.getByLabel("Password").fill(who.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.waitForURL(`${e2e.stack.marketplaceUrl}${next}`);
    return { page, errors };
  }
  const shot = async (page: Page, name: string) => {
    expect(await sideways(page), `${name} scrolls sideways`).toBeLessThanOrEqual(0);
    const width = page.viewportSize()!.width;
    await page.screenshot({ path: `${SHOTS}console-${width}-${name}.png`, fullPage: true });
  };
  const publicStatus = (slug: string) =>
    fetch(`${e2e.stack.marketplaceUrl}/agents/by-slug/${slug}`, {
      headers: { accept: "application/json" },
    }).then((r) => r.status);

  it("a platform admin runs the listing lifecycle and grants an addon, all from the console", {
    timeout: 180_000,
  }, async () => {
    const { page, errors } = await signedIn(ADMIN, 1280);
    await page.getByRole("heading", { name: "Operator console" }).waitFor();
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Console" }).waitFor();
    await page.getByRole("link", { name: "Knowledge Base Assistant" }).waitFor();
    await shot(page, "agents");

    // Create (draft) → the agent's page.
    const slug = `console-${Date.now().toString(36)}`;
    const form = page.getByRole("form", { name: "Register an agent" });
    await form.getByLabel("Name").fill("Console Agent");
    await form.getByLabel("Slug").fill(slug);
    await form.getByLabel("Tagline").fill("Made in the console");
    await form.getByLabel("Product domain").fill(`https://${slug}.example.com`);
    await form
      .getByLabel("OAuth redirect URIs")
      .fill(`https://${slug}.example.com/api/auth/oauth2/callback/marketplace`);
    await form.getByRole("button", { name: "Create agent (draft)" }).click();
    await page.waitForURL(/\/console\/agents\/[^/]+$/);
    const agentId = page.url().split("/").pop()!;
    await page.getByRole("heading", { name: /Console Agent/ }).waitFor();
    expect(await publicStatus(slug)).toBe(404);

    // A metric, a free tier and its quota.
    const metricForm = page.getByRole("form", { name: "Add a metric" });
    await metricForm.getByLabel("Metric slug").fill("questions");
    await metricForm.getByLabel("Metric label").fill("Questions");
    await metricForm.getByLabel("Metric unit").fill("questions");
    await metricForm.getByRole("button", { name: "Add metric" }).click();
    await page.getByRole("form", { name: "Metric questions" }).waitFor();
    const tierForm = page.getByRole("form", { name: "Add a tier" });
    await tierForm.getByLabel("Tier name").fill("Starter");
    await tierForm.getByLabel("Price").fill("0");
    await tierForm.getByRole("button", { name: "Add tier" }).click();
    const quota = page.getByRole("form", { name: "Quota Starter questions" });
    await quota.getByRole("spinbutton").fill("25");
    await quota.getByRole("button", { name: "Set" }).click();
    await quota.getByText("25", { exact: true }).waitFor();

    // Activate: listed publicly.
    await page.getByRole("button", { name: "Make active" }).click();
    await page.getByRole("region", { name: "Status" }).getByText("Status: Active").waitFor();
    await expect.poll(() => publicStatus(slug)).toBe(200);

    // The tier's presentation is editable (its price terms are not).
    const editTier = page.getByRole("form", { name: "Edit tier Starter" });
    await editTier.getByLabel("Features").fill("Email support, Cited answers");
    await editTier.getByRole("button", { name: "Save tier" }).click();
    await expect
      .poll(async () => {
        const tiers = await (await fetch(`${e2e.stack.marketplaceUrl}/agents/${agentId}/pricing`)).json();
        return tiers.data?.[0]?.featuresIncluded;
      })
      .toEqual(["Email support", "Cited answers"]);

    // Partial edit: a description first, then only the tagline; the description stays.
    const details = page.getByRole("form", { name: "Details" });
    await details.getByLabel("Description").fill("Answers from the console.");
    await details.getByRole("button", { name: "Save changes" }).click();
    await page.getByRole("status").filter({ hasText: "Saved." }).waitFor();
    await details.getByLabel("Tagline").fill("Edited tagline");
    await details.getByRole("button", { name: "Save changes" }).click();
    await expect
      .poll(async () => {
        const body = await (await fetch(`${e2e.stack.marketplaceUrl}/agents/${agentId}`)).json();
        return [body.data.tagline, body.data.description, body.data.status];
      })
      .toEqual(["Edited tagline", "Answers from the console.", "active"]);
    await shot(page, "agent-edit");

    // Deactivate (hidden, client disabled) and reactivate.
    await page.getByRole("button", { name: "Deactivate" }).click();
    await page.getByRole("region", { name: "Status" }).getByText("Status: Inactive").waitFor();
    await expect.poll(() => publicStatus(slug)).toBe(404);
    await page.getByRole("button", { name: "Make active" }).click();
    await page.getByRole("region", { name: "Status" }).getByText("Status: Active").waitFor();
    await expect.poll(() => publicStatus(slug)).toBe(200);
    const agent = await (await fetch(`${e2e.stack.marketplaceUrl}/agents/${agentId}`)).json();
    expect(agent.data).toMatchObject({ tagline: "Edited tagline", description: "Answers from the console." });

    // A user found by search gets an addon.
    await page.getByRole("link", { name: "Subscriptions & usage" }).click();
    await page.getByLabel("Subscriber email").fill("demo@");
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.getByRole("listitem").filter({ hasText: "demo@example.com" }).first();
    await row.getByRole("button", { name: "Usage & addons" }).click();
    const grant = page.getByRole("form", { name: "Grant an addon" });
    await grant.getByLabel("Addon amount").fill("5");
    await grant.getByRole("button", { name: "Grant addon" }).click();
    await page.getByText("+5 messages").waitFor();
    await shot(page, "subscriptions");

    await page.getByRole("link", { name: "Users" }).click();
    await page.getByRole("list", { name: "Users" }).getByText("demo@example.com").waitFor();
    await shot(page, "users");
    await page.getByRole("link", { name: "Stripe events" }).click();
    await page.getByRole("heading", { name: "Stripe events" }).waitFor();
    await shot(page, "stripe");
    await page.getByRole("link", { name: "Audit log" }).click();
    await page.getByText("addon.grant").first().waitFor();
    await shot(page, "audit");
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("390 px: every console page fits a phone", { timeout: 120_000 }, async () => {
    const { page, errors } = await signedIn(ADMIN, 390);
    await page.getByRole("link", { name: "Knowledge Base Assistant" }).waitFor();
    await shot(page, "agents");
    await page.getByRole("link", { name: "Knowledge Base Assistant" }).click();
    await page.getByRole("form", { name: "Details" }).waitFor();
    await page.getByRole("form", { name: "Metric messages" }).waitFor();
    await shot(page, "agent-edit");
    for (const [tab, name, list] of [
      ["Users", "users", "Users"],
      ["Subscriptions & usage", "subscriptions", "Subscriptions"],
      ["Stripe events", "stripe", "Stripe events"],
      ["Audit log", "audit", "Audit entries"],
    ] as const) {
      await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: tab }).click();
      await page.getByRole("list", { name: list }).waitFor();
      await shot(page, name);
    }
    expect(errors).toEqual([]);
    await page.context().close();
  });

  it("a member gets no console link, and /console refuses them (the API too)", {
    timeout: 60_000,
  }, async () => {
    const { page } = await signedIn(MEMBER, 1280, "/account");
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Account" }).waitFor();
    expect(
      await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Console" }).count(),
    ).toBe(0);
    await page.goto(`${e2e.stack.marketplaceUrl}/console/users`);
    await page.getByTestId("console-forbidden").waitFor();
    const status = await page.evaluate(async () => (await fetch("/admin/users")).status);
    expect(status).toBe(403);
    await page.context().close();
  });
});
