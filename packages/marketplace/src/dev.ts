import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { asOperator } from "./audit/context.ts";
import { applySpec, parseSpec } from "./catalog/spec.ts";
import { ConfigError } from "./config.ts";
import { DEMO, seedDemoUsers, subscribeToFreeTier } from "./demo/seed.ts";
import { createLogger } from "./http/logger.ts";
import { startMarketplace } from "./server.ts";

/** Where `marketplace dev` keeps its embedded database, relative to the working directory. */
export const DEV_DATA_DIR = ".marketplace";

/**
 * Variables `marketplace dev` never takes from the environment: it is a self-contained development
 * marketplace, so a builder's own DATABASE_URL, Redis or Stripe keys must not leak into it.
 */
const IGNORED_ENV = [
  "DATABASE_URL",
  "REDIS_URL",
  "STRIPE_SECRET_KEY",
  "STRIPE_WEBHOOK_SECRET",
  "AUTH_SECRET",
];

export interface DevOptions {
  agentFile: string;
  port: number;
  dataDir: string;
  envFile: string | undefined;
}

export function parseDevArgs(args: string[], cwd = process.cwd()): DevOptions {
  const { values } = parseArgs({
    args,
    options: {
      agent: { type: "string" },
      port: { type: "string" },
      "data-dir": { type: "string" },
      "write-env": { type: "string" },
    },
  });
  if (!values.agent) throw new ConfigError("marketplace dev needs --agent <agent.yaml|agent.json>");
  const port = Number(values.port ?? process.env.MARKETPLACE_PORT ?? 4000);
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw new ConfigError(`--port: must be a port number (0-65535), got ${values.port}`);
  return {
    agentFile: resolve(cwd, values.agent),
    port,
    dataDir: resolve(cwd, values["data-dir"] ?? DEV_DATA_DIR),
    envFile: values["write-env"] ? resolve(cwd, values["write-env"]) : undefined,
  };
}

/**
 * `marketplace dev --agent agent.yaml [--port N] [--data-dir DIR] [--write-env F]`: a development
 * marketplace for building an agent in any language. Embedded PGlite under DIR (default
 * `./.marketplace`, kept between runs so ids stay stable), the agent registered from the file, the
 * demo admin and user seeded (the user on the agent's free tier, if it has one), the payment-free
 * development checkout on. Prints the agent's environment as KEY=value lines on stdout (and to F).
 */
export async function dev(args: string[]) {
  const options = parseDevArgs(args);
  if (!existsSync(options.agentFile)) throw new ConfigError(`--agent: ${options.agentFile} does not exist`);
  // Validate the registration before starting anything: a typo fails in a second, with the field named.
  const spec = parseSpec(readFileSync(options.agentFile, "utf8"), options.agentFile);
  const env: Record<string, string | undefined> = {
    LOG_LEVEL: "warn",
    ...process.env,
    MARKETPLACE_PORT: String(options.port),
    MARKETPLACE_DATA_DIR: options.dataDir,
    DEV_CHECKOUT: "on",
  };
  for (const name of IGNORED_ENV) delete env[name];
  // Logs go to stderr: stdout carries only the KEY=value lines, so it can be redirected into a .env file.
  const running = await startMarketplace({
    env,
    logger: createLogger(env.LOG_LEVEL ?? "warn", process.stderr),
  });
  const { agent, subscribed } = await asOperator(async () => {
    const { adminId, demoUserId } = await seedDemoUsers(running.auth, running.database.db);
    const agent = await applySpec(running.database.db, { payments: null, devCheckout: true }, spec, adminId);
    return { agent, subscribed: await subscribeToFreeTier(running.database.db, demoUserId, agent.id) };
  });

  const lines = [
    `MARKETPLACE_API_URL=${running.url}`,
    `MARKETPLACE_ISSUER=${running.config.issuer}`,
    `OAUTH_CLIENT_ID=${agent.oauthClientId}`,
    `AGENT_ID=${agent.id}`,
    `AGENT_SLUG=${agent.slug}`,
    `DEMO_USER_EMAIL=${DEMO.user.email}`,
    `DEMO_USER_PASSWORD=${DEMO.user.password}`,
    `DEMO_ADMIN_EMAIL=${DEMO.admin.email}`,
    `DEMO_ADMIN_PASSWORD=${DEMO.admin.password}`,
  ];
  if (options.envFile) writeFileSync(options.envFile, `${lines.join("\n")}\n`);
  process.stdout.write(`${lines.join("\n")}\n`);
  console.error(
    [
      "",
      `  Development marketplace for "${agent.slug}" at ${running.url} (data: ${options.dataDir})`,
      `  Sign in at ${running.url}/sign-in as ${DEMO.user.email} / ${DEMO.user.password}`,
      subscribed
        ? `  ${DEMO.user.email} is on the free tier; paid tiers use the development checkout (no payment).`
        : `  ${agent.slug} has no free tier: subscribe ${DEMO.user.email} at ${running.url}/pricing/${agent.slug} (development checkout).`,
      "  Ctrl-C stops it.",
      "",
    ].join("\n"),
  );

  const stop = async (signal: string) => {
    await running.close();
    console.error(`marketplace stopped (${signal})`);
    process.exit(0);
  };
  process.once("SIGINT", () => void stop("SIGINT"));
  process.once("SIGTERM", () => void stop("SIGTERM"));
}
