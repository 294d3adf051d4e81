import { Writable } from "node:stream";
import { traceLogFields } from "@amp/telemetry";
import pino from "pino";
import { createClient, type NewClient } from "../../src/clients/service.ts";
import { REDACT_PATHS } from "../../src/http/logger.ts";
import { type RunningMarketplace, type StartOptions, startMarketplace } from "../../src/server.ts";
import { testDatabase } from "./database.ts";

export interface TestMarketplace {
  mp: RunningMarketplace;
  url: string;
  issuer: string;
  /** Every log line the marketplace wrote, for secret-leak assertions. */
  logs: string[];
  createClient(
    input?: Partial<NewClient>,
  ): Promise<{ clientId: string; clientSecret?: string; redirectUri: string }>;
  close(): Promise<void>;
}

let clientCounter = 0;

/** Boots a real marketplace on an ephemeral port with its own database. */
export async function startTestMarketplace(
  env: Record<string, string> = {},
  inject: Pick<StartOptions, "payments" | "webhookVerifier"> = {},
): Promise<TestMarketplace> {
  const database = await testDatabase();
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(chunk.toString());
      done();
    },
  });
  const logger = pino(
    { level: "debug", redact: { paths: REDACT_PATHS, censor: "[redacted]" }, mixin: traceLogFields },
    sink,
  );
  const mp = await startMarketplace({
    env: {
      NODE_ENV: "test",
      MARKETPLACE_PORT: "0",
      MARKETPLACE_HOST: "127.0.0.1",
      RATE_LIMIT: "off",
      // The suites buy paid tiers without Stripe; a suite can turn it off through `env`.
      DEV_CHECKOUT: "on",
      ...database.env,
      ...env,
    },
    memoryDatabase: database.memory,
    logger,
    ...inject,
  });
  return {
    mp,
    url: mp.url,
    issuer: mp.config.issuer,
    logs,
    async createClient(input = {}) {
      const n = ++clientCounter;
      const redirectUri =
        input.redirectUris?.[0] ?? `https://agent-${n}.example.com/api/auth/oauth2/callback/marketplace`;
      const created = await createClient(mp.database.db, {
        name: `Test agent ${n}`,
        redirectUris: [redirectUri],
        postLogoutRedirectUris: [`https://agent-${n}.example.com/signed-out`],
        ...input,
      });
      return { clientId: created.clientId, clientSecret: created.clientSecret, redirectUri };
    },
    async close() {
      try {
        await mp.close();
      } finally {
        await database.drop();
      }
    },
  };
}
