import { Browser } from "../../../marketplace/test/support/oauth.ts";
import type { AgentKitOptions } from "../../src/config.ts";
import { exampleAgent, listen } from "./example-app.ts";
import { HostileProvider } from "./hostile-provider.ts";
import { SECRET } from "./stack.ts";
import { type StorageKind, testStore } from "./storage.ts";

/** A hostile provider and an example agent configured against it. */
export async function startRelyingParty(
  options: {
    publishedKeys?: number;
    cookies?: Pick<AgentKitOptions, "cookieMode" | "frontendOrigin">;
    kit?: Partial<Omit<AgentKitOptions, "storage">>;
    /** @default PGlite (PostgreSQL with TEST_DATABASE_URL) */
    storage?: StorageKind;
    /**
     * The provider publishes itself at `http://localhost:<port>` (its public URL, which the browser uses)
     * and the agent is configured to reach it at `http://127.0.0.1:<port>` (marketplaceInternalUrl).
     */
    internalUrl?: boolean;
  } = {},
) {
  const provider = await HostileProvider.start();
  provider.publishedKeys = options.publishedKeys ?? 1;
  const publicBase = options.internalUrl ? provider.base.replace("127.0.0.1", "localhost") : provider.base;
  if (options.internalUrl) provider.publishAt(publicBase);
  const { server, url } = await listen();
  const db = await testStore(options.storage);
  const kit = await exampleAgent(server, {
    marketplaceUrl: publicBase,
    ...(options.internalUrl ? { marketplaceInternalUrl: provider.base } : {}),
    allowInsecureMarketplace: true,
    agentId: "agent-1",
    agentSlug: "agent-one",
    clientId: provider.clientId,
    baseURL: url,
    secret: SECRET,
    storage: db.storage,
    // These suites sign in dozens of times a minute from one address; F.4d sets its own limit.
    callbackRateLimit: { max: 10_000, windowSeconds: 60 },
    ...options.cookies,
    ...options.kit,
  });
  return {
    provider,
    url,
    kit,
    db,
    /** A fresh browser through agent → provider → agent callback; returns it with the callback answer. */
    async signIn() {
      const browser = new Browser(url);
      const start = await browser.fetch("/api/auth/sign-in/marketplace");
      const authorize = await browser.fetch(start.headers.get("location")!);
      const callback = await browser.fetch(authorize.headers.get("location")!);
      return { browser, callback };
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await db.close();
      await provider.close();
    },
  };
}
