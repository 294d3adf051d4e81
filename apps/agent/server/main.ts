import { createServer } from "node:http";
import { startTracing, traceLogFields } from "@amp/telemetry";
import pino from "pino";
import { createAgentApp, Streams } from "./app.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { KnowledgeBases, schema } from "./kb.ts";
import { AgentMetrics } from "./metrics.ts";
import { openAgent } from "./open.ts";

async function main() {
  const config = loadConfig();
  // Before anything serves; only with an exporter configured.
  const tracing = config.tracing ? startTracing(config.tracing, "agent") : null;
  const logger = pino({
    mixin: traceLogFields,
    level: config.logLevel,
    base: { service: "agent" },
    redact: {
      paths: ["*.password", "*.token", "*.accessToken", "*.refreshToken", "*.cookie", "*.authorization"],
      censor: "[redacted]",
    },
  });
  const streams = new Streams();
  const metrics = new AgentMetrics(() => streams.size);
  const { database, kit } = await openAgent(config, config.database, metrics.observer);
  const app = createAgentApp({
    config,
    kit,
    kbs: new KnowledgeBases(database.drizzle(schema)),
    database,
    logger,
    streams,
    metrics,
  });
  const server = createServer(app);
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve) => server.listen(config.port, config.host, resolve));
  logger.info({ url: config.backendUrl }, "agent ready");
  console.log(`\n  Agent ready at ${config.backendUrl}\n`);

  const stop = async (signal: string) => {
    logger.info({ signal }, "shutting down");
    streams.endAll();
    server.close();
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5_000).unref();
    await database.close();
    await tracing?.shutdown();
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(error instanceof ConfigError ? error.message : error);
  process.exit(1);
});
