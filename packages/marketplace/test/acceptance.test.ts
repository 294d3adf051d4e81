import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO, seedDemo } from "../src/demo/seed.ts";
import { bearerCall, call, confirmDevCheckout } from "./support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "./support/harness.ts";
import { Browser, decodeJwt, fullFlow, signedInBrowser, tokenRequest } from "./support/oauth.ts";

const AGENT_ORIGIN = "http://localhost:3001";
let t: TestMarketplace;
let agent: { id: string; slug: string; oauthClientId: string };
const client = () => ({
  clientId: agent.oauthClientId,
  redirectUri: `${AGENT_ORIGIN}/api/auth/oauth2/callback/marketplace`,
});

beforeAll(async () => {
  t = await startTestMarketplace();
  ({ agent } = await seedDemo(t.mp.auth, t.mp.database.db, { agentOrigin: AGENT_ORIGIN, devCheckout: true }));
});
afterAll(() => t?.close());

async function signIn(email: string, password: string) {
  const browser = new Browser(t.url);
  const response = await browser.postJson("/api/auth/sign-in/email", { email, password });
  expect(response.status).toBe(200);
  return browser;
}

describe("CONTRACT.md §8 acceptance, driven as an agent backend would", () => {
  it("the demo user on Free: live tier, consume to the cap, 429 remaining 0, release fixed, 422 rolling, upgrade without re-login", async () => {
    const browser = await signIn(DEMO.user.email, DEMO.user.password);
    const { tokens } = await fullFlow(t.issuer, browser, client());
    const mp = (method: string, path: string, body?: unknown) =>
      bearerCall(t.url, tokens.access_token, method, path, body);

    // Tier resolution: the API is the truth; the claim is a hint.
    expect(decodeJwt(tokens.id_token!).payload["marketplace:agentTiers"]).toEqual({ [agent.id]: "Free" });
    const tier = await mp("GET", `/me/subscriptions/${agent.id}`);
    expect(tier.body.data).toMatchObject({ status: "active", tier: { tierName: "Free" } });

    // Boolean feature gated by quota, not tier name.
    expect((await mp("GET", `/me/agents/${agent.id}/usage/voice`)).body.data.effectiveQuota).toBe(0);

    // Consume to the cap, then 429 with remaining 0.
    for (let i = 0; i < 20; i++) {
      expect(
        (
          await mp("POST", `/me/agents/${agent.id}/usage/messages/consume`, {
            delta: 1,
            clientReqId: randomUUID(),
          })
        ).status,
      ).toBe(200);
    }
    const capped = await mp("POST", `/me/agents/${agent.id}/usage/messages/consume`, {
      delta: 1,
      clientReqId: randomUUID(),
    });
    expect(capped.status).toBe(429);
    expect(capped.body.error!.details).toMatchObject({ remaining: 0, effectiveQuota: 20 });

    // Fixed metric: consume then release; rolling release is 422.
    const kbId = randomUUID();
    await mp("POST", `/me/agents/${agent.id}/usage/knowledge-bases/consume`, {
      delta: 1,
      clientReqId: `create-${kbId}`,
    });
    const released = await mp("POST", `/me/agents/${agent.id}/usage/knowledge-bases/release`, {
      delta: 1,
      clientReqId: `release-${kbId}`,
    });
    expect(released.body.data).toMatchObject({ used: 0 });
    expect(
      (
        await mp("POST", `/me/agents/${agent.id}/usage/messages/release`, {
          delta: 1,
          clientReqId: randomUUID(),
        })
      ).status,
    ).toBe(422);

    // Upgrade through the pricing flow; the same access token sees Pro at once.
    const checkout = await call(
      browser,
      "POST",
      `/agents/${agent.id}/pricing/${await proTierId()}/checkout`,
      {
        returnUrl: `${AGENT_ORIGIN}/?checkout=done`,
      },
    );
    expect(checkout.body.data.status).toBe("redirect");
    expect(await confirmDevCheckout(browser, checkout.body.data.url)).toBe(`${AGENT_ORIGIN}/?checkout=done`);
    expect((await mp("GET", `/me/subscriptions/${agent.id}`)).body.data.tier.tierName).toBe("Pro");
    const proCap = await mp("POST", `/me/agents/${agent.id}/usage/messages/consume`, {
      delta: 1,
      clientReqId: randomUUID(),
    });
    // The upgrade raises the cap and keeps the 20 already used this period (F.3).
    expect(proCap.body.data).toMatchObject({ effectiveQuota: 1000, used: 21, remaining: 979 });
    expect((await mp("GET", `/me/agents/${agent.id}/usage/voice`)).body.data.effectiveQuota).toBe(1);

    // A refresh rotates the refresh token and refreshes the hint.
    const refreshed = await (
      await tokenRequest(t.issuer, {
        grant_type: "refresh_token",
        refresh_token: tokens.refresh_token!,
        client_id: agent.oauthClientId,
      })
    ).json();
    expect(refreshed.refresh_token).not.toBe(tokens.refresh_token);
    expect(decodeJwt(refreshed.id_token).payload["marketplace:agentTiers"]).toEqual({ [agent.id]: "Pro" });
  });

  it("an unsubscribed user gets 404 from the subscription API and 402 from consume", async () => {
    const stranger = await signedInBrowser(t.url);
    const { tokens } = await fullFlow(t.issuer, stranger.browser, client());
    expect(
      (await bearerCall(t.url, tokens.access_token, "GET", `/me/subscriptions/${agent.id}`)).status,
    ).toBe(404);
    const consume = await bearerCall(
      t.url,
      tokens.access_token,
      "POST",
      `/me/agents/${agent.id}/usage/messages/consume`,
      {
        delta: 1,
        clientReqId: randomUUID(),
      },
    );
    expect(consume.status).toBe(402);
    expect(consume.body.error!.details).toEqual({ tierUpgradeUrl: `${t.url}/pricing/${agent.slug}` });
  });
});

describe("the old dashboard address", () => {
  it("/dashboard moves permanently to the web app's account page", async () => {
    const response = await fetch(`${t.url}/dashboard`, { redirect: "manual" });
    expect(response.status).toBe(301);
    expect(response.headers.get("location")).toBe("/account");
  });
});

async function proTierId(): Promise<string> {
  const tiers = await (await fetch(`${t.url}/agents/${agent.id}/pricing`)).json();
  return tiers.data.find((tier: { tierName: string }) => tier.tierName === "Pro").id;
}
