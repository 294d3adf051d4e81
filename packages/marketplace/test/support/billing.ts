import { eq } from "drizzle-orm";
import { user } from "../../src/db/schema.ts";
import type { TestMarketplace } from "./harness.ts";
import { type Browser, fullFlow, signedInBrowser } from "./oauth.ts";

export interface Envelope<T = unknown> {
  status: "success" | "error";
  statusCode: number;
  data: T;
  error: { code: string; message: string; details?: Record<string, unknown> } | null;
  pagination?: { cursor: string | null; hasMore: boolean; limit: number };
}

/** A JSON call through a cookie browser, returning status and envelope. */
// biome-ignore lint/suspicious/noExplicitAny: tests read envelopes loosely; the contract schemas are checked elsewhere
export async function call<T = any>(browser: Browser, method: string, path: string, body?: unknown) {
  const response = await browser.fetch(path, {
    method,
    headers: {
      accept: "application/json",
      origin: new URL(browser.base).origin,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Envelope<T>, headers: response.headers };
}

/** A JSON call with a bearer token (how agent backends call the marketplace). */
// biome-ignore lint/suspicious/noExplicitAny: as above
export async function bearerCall<T = any>(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${token}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: response.status, body: (await response.json()) as Envelope<T>, headers: response.headers };
}

export async function adminBrowser(t: TestMarketplace) {
  const admin = await signedInBrowser(t.url, { name: "Platform Admin" });
  await t.mp.database.db.update(user).set({ role: "platform_admin" }).where(eq(user.id, admin.userId));
  return admin.browser;
}

let agentCounter = 0;

export interface DemoAgent {
  id: string;
  slug: string;
  clientId: string;
  redirectUri: string;
  free: { id: string };
  pro: { id: string };
  metrics: Record<string, { id: string }>;
}

/**
 * Registers an agent through the API, with a Free and a Pro tier and the
 * metrics and quotas given (`{ slug: [kind, freeQuota, proQuota] }`).
 */
export async function registerAgent(
  admin: Browser,
  metrics: Record<string, ["fixed" | "rolling", number | null | undefined, number | null | undefined]>,
  opts: { trialDays?: number } = {},
): Promise<DemoAgent> {
  const n = ++agentCounter;
  const slug = `agent-${n}-${Date.now().toString(36)}`;
  const redirectUri = `https://${slug}.example.com/api/auth/oauth2/callback/marketplace`;
  const created = await call(admin, "POST", "/agents", {
    name: `Agent ${n}`,
    slug,
    status: "active",
    redirectUris: [redirectUri],
    productDomain: `https://${slug}.example.com`,
  });
  if (created.status !== 201) throw new Error(`agent: ${JSON.stringify(created.body)}`);
  const id = created.body.data.id as string;
  const free = await call(admin, "POST", `/agents/${id}/pricing`, {
    tierName: "Free",
    isFree: true,
    sortOrder: 0,
  });
  const pro = await call(admin, "POST", `/agents/${id}/pricing`, {
    tierName: "Pro",
    isFree: false,
    price: "19.00",
    recommended: true,
    sortOrder: 1,
    trialDays: opts.trialDays ?? 0,
  });
  if (free.status !== 201 || pro.status !== 201)
    throw new Error(`tiers: ${JSON.stringify([free.body, pro.body])}`);
  const ids: Record<string, { id: string }> = {};
  for (const [metricSlug, [kind, freeQuota, proQuota]] of Object.entries(metrics)) {
    const metric = await call(admin, "POST", `/agents/${id}/metrics`, {
      slug: metricSlug,
      displayName: metricSlug,
      unit: "units",
      kind,
    });
    if (metric.status !== 201) throw new Error(`metric: ${JSON.stringify(metric.body)}`);
    ids[metricSlug] = { id: metric.body.data.id };
    for (const [tier, quota] of [
      [free.body.data.id, freeQuota],
      [pro.body.data.id, proQuota],
    ] as const) {
      if (quota === undefined) continue; // no row = deny
      const set = await call(admin, "PUT", `/agents/${id}/pricing/${tier}/quotas/${metric.body.data.id}`, {
        quotaLimit: quota,
      });
      if (set.status !== 200) throw new Error(`quota: ${JSON.stringify(set.body)}`);
    }
  }
  return {
    id,
    slug,
    clientId: created.body.data.oauthClientId,
    redirectUri,
    free: { id: free.body.data.id },
    pro: { id: pro.body.data.id },
    metrics: ids,
  };
}

/** A fresh user signed in to the marketplace with an access token issued to `agent`. */
export async function agentUser(t: TestMarketplace, agent: DemoAgent) {
  const who = await signedInBrowser(t.url);
  const { tokens } = await fullFlow(t.issuer, who.browser, {
    clientId: agent.clientId,
    redirectUri: agent.redirectUri,
  });
  return { ...who, token: tokens.access_token, tokens };
}

/** Subscribes the user to the agent's free tier. */
export async function subscribeFree(who: { browser: Browser }, agent: DemoAgent) {
  const response = await call(who.browser, "POST", `/agents/${agent.id}/pricing/${agent.free.id}/checkout`, {
    returnUrl: `https://${agent.slug}.example.com/welcome`,
  });
  if (response.status !== 201) throw new Error(`checkout: ${JSON.stringify(response.body)}`);
  return response.body.data.subscriptionId as string;
}

/** Follows a development-checkout URL and confirms it, as the user's browser would. */
export async function confirmDevCheckout(browser: Browser, url: string) {
  const target = new URL(url);
  const page = await browser.fetch(`${target.pathname}${target.search}`);
  const html = await page.text();
  if (!html.includes("Development checkout")) throw new Error("not the development checkout page");
  const csrf = /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  const token = /name="token" value="([^"]+)"/.exec(html)![1]!;
  const confirm = await browser.fetch("/dev-checkout", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", origin: new URL(browser.base).origin },
    body: new URLSearchParams({ csrf, token }),
  });
  if (confirm.status !== 303) throw new Error(`confirm answered ${confirm.status}`);
  return confirm.headers.get("location");
}
