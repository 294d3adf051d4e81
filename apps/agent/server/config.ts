import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { dataDirSecret } from "@amp/db";
import { z } from "zod";
import type { MetricsAccess } from "./metrics.ts";

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** Every variable the agent reads (the seed's local-development list plus ours); see apps/agent/.env.example. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  AGENT_PORT: z.coerce.number().int().min(0).max(65535).default(3001),
  AGENT_HOST: z.string().default("127.0.0.1"),
  BACKEND_URL: z.url().optional(),
  FRONTEND_ORIGIN: z.url().optional(),
  MARKETPLACE_API_URL: z.url().default("http://localhost:4000"),
  /** Where this server reaches the marketplace when not at its public URL (e.g. `http://marketplace:4000` in compose). */
  MARKETPLACE_INTERNAL_URL: z.url().optional(),
  OAUTH_CLIENT_ID: z.string().min(1, "required: the agent's client id from its marketplace registration"),
  OAUTH_CLIENT_SECRET: z
    .literal("", { error: "must be empty: agents are public clients (PKCE, no secret)" })
    .default(""),
  AGENT_ID: z.string().min(1, "required: the agent's id from its marketplace registration"),
  AGENT_SLUG: z.string().min(1, "required: the agent's slug"),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  /**
   * The marketplace webhook endpoint's signing secret(s) (`whsec_…`; during a rotation `next,previous`).
   * Unset: no pushed events (POST /api/marketplace/webhooks and GET /api/me/events are not served).
   */
  MARKETPLACE_WEBHOOK_SECRET: z
    .string()
    .transform((v) =>
      v
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().startsWith("whsec_", "each secret must start with whsec_")))
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  AGENT_DATA_DIR: z.string().optional(),
  WEB_DIST_DIR: z.string().optional(),
  MAX_DOCUMENT_BYTES: z.coerce.number().int().positive().default(200_000),
  /** Reverse-proxy hops whose X-Forwarded-For is believed for the client address (`true` = 1); 0 = the socket. */
  TRUST_PROXY: z
    .preprocess((v) => (v === "true" ? "1" : v === "false" ? "0" : v), z.coerce.number().int().min(0).max(10))
    .default(0),
  LLM_BASE_URL: z.url().optional(),
  LLM_API_KEY: z.string().optional(),
  LLM_MODEL: z.string().optional(),
  /** Bearer token for GET /metrics. Unset: open outside production, not served in production. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** OTLP/HTTP collector for traces (spans go to `<url>/v1/traces`). Unset: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type AgentConfig = ReturnType<typeof loadConfig>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

/** Validated once at start-up; every problem is named in one error. */
export function loadConfig(env: Record<string, string | undefined> = process.env) {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    throw new ConfigError(
      `Invalid agent configuration:\n${parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`).join("\n")}`,
    );
  }
  const e = parsed.data;
  const problems: string[] = [];
  if (e.NODE_ENV === "production" && !e.AUTH_SECRET) problems.push("  AUTH_SECRET: required in production");
  const llm = [e.LLM_BASE_URL, e.LLM_API_KEY, e.LLM_MODEL];
  if (llm.some(Boolean) && !llm.every(Boolean))
    problems.push("  LLM_BASE_URL, LLM_API_KEY, LLM_MODEL: set all three or none");
  if (problems.length) throw new ConfigError(`Invalid agent configuration:\n${problems.join("\n")}`);
  const dataDir = resolve(e.AGENT_DATA_DIR ?? `${REPO_ROOT}/.data/agent`);
  return {
    env: e.NODE_ENV,
    port: e.AGENT_PORT,
    host: e.AGENT_HOST,
    backendUrl: (e.BACKEND_URL ?? `http://localhost:${e.AGENT_PORT}`).replace(/\/+$/, ""),
    frontendOrigin: e.FRONTEND_ORIGIN,
    marketplaceUrl: e.MARKETPLACE_API_URL.replace(/\/+$/, ""),
    marketplaceInternalUrl: e.MARKETPLACE_INTERNAL_URL?.replace(/\/+$/, ""),
    clientId: e.OAUTH_CLIENT_ID,
    agentId: e.AGENT_ID,
    agentSlug: e.AGENT_SLUG,
    secret: e.AUTH_SECRET ?? dataDirSecret(dataDir),
    /** Empty: the marketplace's events are not received. */
    webhookSecrets: e.MARKETPLACE_WEBHOOK_SECRET ?? [],
    database: e.DATABASE_URL ? { url: e.DATABASE_URL } : { dataDir: `${dataDir}/pg` },
    webDist: resolve(e.WEB_DIST_DIR ?? `${REPO_ROOT}/apps/agent/web/dist`),
    maxDocumentBytes: e.MAX_DOCUMENT_BYTES,
    trustProxy: e.TRUST_PROXY,
    llm: e.LLM_BASE_URL
      ? { baseUrl: e.LLM_BASE_URL.replace(/\/+$/, ""), apiKey: e.LLM_API_KEY!, model: e.LLM_MODEL! }
      : null,
    logLevel: e.LOG_LEVEL,
    /** Where OpenTelemetry spans are exported; undefined: tracing is off (@amp/telemetry). */
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } : undefined,
    metrics: (e.METRICS_TOKEN
      ? { token: e.METRICS_TOKEN }
      : e.NODE_ENV === "production"
        ? "off"
        : "open") as MetricsAccess,
  };
}
