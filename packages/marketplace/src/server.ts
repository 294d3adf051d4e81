import { once } from "node:events";
import { createServer, type RequestListener, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { startTracing } from "@amp/telemetry";
import { getRequestListener } from "@hono/node-server";
import type { Logger } from "pino";
import { createMarketplace, type Marketplace } from "./app.ts";
import { BEARER_REVOKED_CHANNEL } from "./auth/bearer.ts";
import { type Config, loadConfig } from "./config.ts";
import { type Database, openDatabase } from "./db/database.ts";
import { migrate } from "./db/migrate.ts";
import { createLogger } from "./http/logger.ts";
import type { Payments, WebhookVerifier } from "./payments/payments.ts";

export interface RunningMarketplace extends Marketplace {
  config: Config;
  database: Database;
  server: Server;
  url: string;
  close(): Promise<void>;
}

export interface StartOptions {
  env?: Record<string, string | undefined>;
  /** Use an in-memory PGlite instead of the data directory (tests). */
  memoryDatabase?: boolean;
  logger?: Logger;
  payments?: Payments | null;
  webhookVerifier?: WebhookVerifier | null;
}

/**
 * Starts the marketplace: validates config, opens the database, applies
 * migrations, then serves. With port 0 the OS picks a port and, unless
 * MARKETPLACE_BASE_URL is set, the base URL (and so the issuer) follows it.
 */
export async function startMarketplace(options: StartOptions = {}): Promise<RunningMarketplace> {
  const env = options.env ?? process.env;
  let config = loadConfig(env, { memoryDatabase: options.memoryDatabase });
  const logger = options.logger ?? createLogger(config.logLevel);

  // Until the app is ready, answer 503 rather than leaving early requests hanging.
  let handle: RequestListener = (_req, res) => {
    res
      .writeHead(503, { "content-type": "application/json", "retry-after": "1" })
      .end('{"status":"starting"}');
  };
  const server = createServer((req, res) => handle(req, res));
  server.listen(config.port, config.host);
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  if (config.port === 0 && !env.MARKETPLACE_BASE_URL) {
    config = loadConfig(
      { ...env, MARKETPLACE_BASE_URL: `http://${hostFor(config.host)}:${port}` },
      {
        memoryDatabase: options.memoryDatabase,
      },
    );
  }

  // Before anything serves, so the first request is traced; only with an exporter configured.
  const tracing = config.tracing ? startTracing(config.tracing, "marketplace") : null;
  if (config.tracing && !tracing) logger.warn("an OpenTelemetry SDK is already registered; using it");
  const database = await openDatabase(config.database, { poolSize: config.databasePoolSize });
  try {
    const { applied } = await migrate(database.sql);
    if (applied.length) logger.info({ applied }, "migrations applied");
  } catch (error) {
    server.close();
    await database.close();
    await tracing?.shutdown();
    throw error;
  }
  const marketplace = createMarketplace({
    config,
    database,
    logger,
    payments: options.payments,
    webhookVerifier: options.webhookVerifier,
  });
  // Revocations on any instance evict this instance's bearer cache.
  await database.listen(BEARER_REVOKED_CHANNEL, marketplace.bearer.subscription());
  await marketplace.events.start();
  // The app reads the client address from the Node request it gets as `c.env.incoming` (http/client-address.ts).
  handle = getRequestListener(marketplace.app.fetch);
  server.keepAliveTimeout = 65_000;

  return {
    ...marketplace,
    config,
    database,
    server,
    url: config.baseUrl,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await marketplace.events.stop();
      await marketplace.rateLimits.close();
      await database.close();
      await tracing?.shutdown();
    },
  };
}

const hostFor = (host: string) => (host === "0.0.0.0" || host === "::" ? "localhost" : host);
