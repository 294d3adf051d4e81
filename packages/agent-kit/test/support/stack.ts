import type { Server } from "node:http";
import { adminBrowser, call } from "../../../marketplace/test/support/billing.ts";
import { startTestMarketplace, type TestMarketplace } from "../../../marketplace/test/support/harness.ts";
import { Browser, signedInBrowser } from "../../../marketplace/test/support/oauth.ts";
import { CALLBACK_PATH } from "../../src/auth.ts";
import type { WebhookOptions } from "../../src/index.ts";
import type { AgentKit } from "../../src/kit.ts";
import { exampleAgent, listen } from "./example-app.ts";
import { type TestStore, testStore } from "./storage.ts";

export const SECRET = "agent-kit-test-secret-0123456789abcdef";

export interface AgentStack {
  t: TestMarketplace;
  agent: { id: string; slug: string; clientId: string; freeTierId: string; proTierId: string };
  agentUrl: string;
  server: Server;
  kit: AgentKit;
  /** The endpoint's signing secret when `webhooks` was asked for. */
  webhookSecret: string | null;
  /** The agent's storage (PGlite, or PostgreSQL with TEST_DATABASE_URL) with raw SQL for assertions. */
  db: TestStore;
  close(): Promise<void>;
}

/** The marketplace, one registered agent (Free/Pro; messages, knowledge-bases, voice) and the example agent app. */
export async function startAgentStack(
  opts: {
    marketplaceEnv?: Record<string, string>;
    kit?: Record<string, unknown>;
    /** Registers `<agent>/api/marketplace/webhooks` with the marketplace and mounts kit.webhooks there. */
    webhooks?: Omit<WebhookOptions, "secrets">;
  } = {},
) {
  const t = await startTestMarketplace(opts.marketplaceEnv ?? {});
  const admin = await adminBrowser(t);
  const { server, url: agentUrl } = await listen();
  const slug = `kit-${Date.now().toString(36)}`;
  const created = await call(admin, "POST", "/agents", {
    name: "Kit Agent",
    slug,
    status: "active",
    redirectUris: [`${agentUrl}${CALLBACK_PATH}`],
    postLogoutRedirectUris: [`${agentUrl}/`],
    productDomain: agentUrl,
  });
  const id = created.body.data.id as string;
  const free = (await call(admin, "POST", `/agents/${id}/pricing`, { tierName: "Free", isFree: true })).body
    .data;
  const pro = (
    await call(admin, "POST", `/agents/${id}/pricing`, { tierName: "Pro", isFree: false, price: "9.00" })
  ).body.data;
  for (const [metric, kind, freeQuota, proQuota] of [
    ["messages", "rolling", 5, 100],
    ["knowledge-bases", "fixed", 2, 10],
    ["voice", "fixed", 0, 1],
  ] as const) {
    const m = (
      await call(admin, "POST", `/agents/${id}/metrics`, {
        slug: metric,
        displayName: metric,
        unit: "units",
        kind,
      })
    ).body.data;
    await call(admin, "PUT", `/agents/${id}/pricing/${free.id}/quotas/${m.id}`, { quotaLimit: freeQuota });
    await call(admin, "PUT", `/agents/${id}/pricing/${pro.id}/quotas/${m.id}`, { quotaLimit: proQuota });
  }
  const endpoint = opts.webhooks
    ? (await call(admin, "POST", `/agents/${id}/webhooks`, { url: `${agentUrl}/api/marketplace/webhooks` }))
        .body.data
    : null;
  const db = await testStore();
  const kit = await exampleAgent(
    server,
    {
      marketplaceUrl: t.url,
      allowInsecureMarketplace: true,
      agentId: id,
      agentSlug: slug,
      clientId: created.body.data.oauthClientId,
      baseURL: agentUrl,
      secret: SECRET,
      storage: db.storage,
      ...opts.kit,
    },
    endpoint ? { ...opts.webhooks, secrets: [endpoint.secret] } : undefined,
  );
  const stack: AgentStack = {
    webhookSecret: endpoint?.secret ?? null,
    t,
    agent: { id, slug, clientId: created.body.data.oauthClientId, freeTierId: free.id, proTierId: pro.id },
    agentUrl,
    server,
    kit,
    db,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      await t.close();
    },
  };
  return stack;
}

/**
 * A browser signed in to the marketplace, then to the agent through the
 * real redirect dance (agent → authorize → callback → agent session).
 */
export async function signInToAgent(
  stack: AgentStack,
  who?: { browser: Browser; email: string; userId: string },
) {
  const user = who ?? (await signedInBrowser(stack.t.url));
  const browser = user.browser;
  const start = await browser.fetch(`${stack.agentUrl}/api/auth/sign-in/marketplace?returnTo=/welcome`);
  if (start.status !== 302) throw new Error(`sign-in start answered ${start.status}: ${await start.text()}`);
  const authorize = await browser.fetch(start.headers.get("location")!);
  const callback = authorize.headers.get("location");
  if (!callback?.startsWith(stack.agentUrl))
    throw new Error(`authorize answered ${authorize.status} ${callback}`);
  const done = await browser.fetch(callback);
  return { ...user, browser, callback, done, agentUserId: await agentUserIdOf(stack, user.userId) };
}

/** The agent's own user id for a marketplace user (agent-kit keys tokens and clients by it). */
async function agentUserIdOf(stack: AgentStack, marketplaceUserId: string): Promise<string> {
  const rows = await stack.db.query<{ userId: string }>(
    `SELECT "userId" FROM "account" WHERE "accountId" = $1`,
    [marketplaceUserId],
  );
  return rows[0]!.userId;
}

/** Subscribes a signed-in browser to the stack agent's Free tier. */
export async function subscribeFree(stack: AgentStack, browser: Browser) {
  await call(browser, "POST", `/agents/${stack.agent.id}/pricing/${stack.agent.freeTierId}/checkout`, {
    returnUrl: `${stack.agentUrl}/`,
  });
}

/** Agent API call with the browser's cookies, as the agent's own web app's fetch sends it (with its Origin). */
export async function agentCall(browser: Browser, url: string, init: RequestInit = {}) {
  const safe = ["GET", "HEAD"].includes(init.method ?? "GET");
  const response = await browser.fetch(url, {
    ...init,
    headers: {
      accept: "application/json",
      ...(safe ? {} : { origin: new URL(url).origin }),
      ...(init.headers as Record<string, string> | undefined),
    },
  });
  const text = await response.text();
  // biome-ignore lint/suspicious/noExplicitAny: tests read agent responses loosely
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {}
  return { status: response.status, body, headers: response.headers };
}

export { Browser };
