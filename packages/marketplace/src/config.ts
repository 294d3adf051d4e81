import { randomBytes } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { dataDirSecret } from "@amp/db";
import type { TracingSettings } from "@amp/telemetry";
import { z } from "zod";
import type { MetricsAccess } from "./metrics/route.ts";

const HERE = dirname(fileURLToPath(import.meta.url));
/**
 * Where `.data/marketplace` lives by default: the repository root when running from its sources, the
 * working directory when running from an installed package (never inside node_modules).
 */
const DATA_ROOT = HERE.split(sep).includes("node_modules") ? process.cwd() : resolve(HERE, "../../..");
/**
 * The web app's build: the package's own `web/` when it ships one (the packed tarball, `npm run pack:sdk`),
 * else the repository's `apps/marketplace-web/dist`.
 */
const PACKAGED_WEB_DIR = resolve(HERE, "../web");
const DEFAULT_WEB_DIR = existsSync(join(PACKAGED_WEB_DIR, "index.html"))
  ? PACKAGED_WEB_DIR
  : resolve(HERE, "../../../apps/marketplace-web/dist");

const seconds = (fallback: number) => z.coerce.number().int().positive().default(fallback);
const flag = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "on", "off"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "on");

/** Every environment variable the marketplace reads; documented in `.env.example`. */
const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  MARKETPLACE_PORT: z.coerce.number().int().min(0).max(65535).default(4000),
  MARKETPLACE_HOST: z.string().min(1).default("127.0.0.1"),
  MARKETPLACE_BASE_URL: z.url().optional(),
  MARKETPLACE_UI_ORIGIN: z.url().optional(),
  MARKETPLACE_WEB_DIR: z.string().min(1).optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(ql)?:\/\//, "must be a postgres:// URL")
    .optional(),
  DATABASE_POOL_SIZE: z.coerce.number().int().positive().default(10),
  /** Group commit of consume/release: batches running at once (default 2 on PostgreSQL, 1 on PGlite). */
  USAGE_BATCH_IN_FLIGHT: z.coerce.number().int().positive().optional(),
  /** Group commit of consume/release: most items in one transaction. */
  USAGE_BATCH_MAX: z.coerce.number().int().positive().max(10_000).optional(),
  MARKETPLACE_DATA_DIR: z.string().min(1).optional(),
  AUTH_SECRET: z.string().min(32, "must be at least 32 characters").optional(),
  ACCESS_TOKEN_TTL_SECONDS: seconds(36_000),
  ID_TOKEN_TTL_SECONDS: seconds(36_000),
  REFRESH_TOKEN_TTL_SECONDS: seconds(30 * 86_400),
  REFRESH_TOKEN_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).default(0),
  AUTH_CODE_TTL_SECONDS: z.coerce.number().int().positive().max(600).default(600),
  JWKS_ROTATION_INTERVAL_SECONDS: seconds(30 * 86_400),
  JWKS_GRACE_PERIOD_SECONDS: seconds(7 * 86_400),
  BEARER_CACHE_TTL_MS: z.coerce.number().int().min(0).default(5_000),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1_048_576),
  RATE_LIMIT: flag(true),
  /** Proxy hops in front of the server that append to X-Forwarded-For; `true` = 1, `false` = 0. */
  TRUST_PROXY: z
    .string()
    .regex(/^(true|false|on|off|\d{1,2})$/, "must be a number of proxy hops (0–99), or true (1) / false (0)")
    .default("0")
    .transform((v) => (v === "true" || v === "on" ? 1 : v === "false" || v === "off" ? 0 : Number(v))),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
    .optional(),
  REDIS_KEY_PREFIX: z.string().min(1).max(64).default("marketplace:"),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(/^(sk|rk)_(test|live)_/, "must be a Stripe secret key (sk_… or rk_…)")
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .startsWith("whsec_", "must be a webhook signing secret (whsec_…)")
    .optional(),
  /** Paid tiers without Stripe activate through a payment-free page; development only, never implied. */
  DEV_CHECKOUT: flag(false),
  /** Bearer token for GET /metrics. Unset: open outside production, not served in production. */
  METRICS_TOKEN: z.string().min(16, "must be at least 16 characters").optional(),
  /** OTLP/HTTP collector for traces (spans go to `<url>/v1/traces`). Unset: tracing is off. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Agent webhooks (docs/agent-events.md): first retry delay; later ones double, capped at 6 h, for 3 days. */
  WEBHOOK_RETRY_DELAY_SECONDS: z.coerce.number().min(1).max(3600).default(30),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info"),
});

export type Env = z.input<typeof EnvSchema>;

export interface Config {
  env: "development" | "production" | "test";
  /** A real deployment: NODE_ENV=production or an https base URL. Development conveniences are off. */
  deployed: boolean;
  port: number;
  host: string;
  /** Public base URL, no trailing slash. The issuer is `${baseUrl}/api/auth`. */
  baseUrl: string;
  issuer: string;
  /** Origin of the marketplace web UI when it is served elsewhere (cross-origin cookies). */
  uiOrigin: string | undefined;
  crossOriginCookies: boolean;
  /** The built web app the marketplace serves (same-origin setup). */
  webDir: string;
  database: { url: string } | { dataDir: string } | { memory: true };
  databasePoolSize: number;
  /** Group commit of consume and release (usage/group-commit.ts). */
  usageBatch: { maxInFlight: number | undefined; maxBatch: number | undefined };
  dataDir: string;
  authSecret: string;
  tokens: {
    accessTtl: number;
    idTtl: number;
    refreshTtl: number;
    refreshReuseGrace: number;
    codeTtl: number;
  };
  jwks: { rotationInterval: number; gracePeriod: number };
  bearerCacheTtlMs: number;
  bodyLimitBytes: number;
  rateLimit: boolean;
  /** Proxy hops whose X-Forwarded-For entries are trusted (0: the socket peer is the client). */
  trustProxy: number;
  /** Shared store for rate limits; when unset they live in PostgreSQL. */
  redis: { url: string; keyPrefix: string } | undefined;
  logLevel: string;
  webhooks: { retryDelaySeconds: number };
  /** Who may scrape GET /metrics (see metrics/route.ts). */
  metrics: MetricsAccess;
  stripe: { secretKey: string | undefined; webhookSecret: string | undefined };
  /** Where OpenTelemetry spans are exported; undefined: tracing is off (@amp/telemetry). */
  tracing: TracingSettings | undefined;
  /**
   * Paid tiers without Stripe use the development checkout: only with
   * DEV_CHECKOUT=on, never in production or behind an https base URL.
   */
  devCheckout: boolean;
}

export class ConfigError extends Error {
  override name = "ConfigError";
}

/**
 * Reads and validates the environment once, at start-up. Every invalid or
 * missing variable is named in one error, so a misconfigured deploy fails
 * fast with a message that says what to fix.
 */
export function loadConfig(
  env: Record<string, string | undefined> = process.env,
  overrides: { memoryDatabase?: boolean } = {},
): Config {
  const parsed = EnvSchema.safeParse(env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
    throw new ConfigError(`Invalid marketplace configuration:\n${lines.join("\n")}`);
  }
  const e = parsed.data;
  const problems: string[] = [];
  const baseUrl = (e.MARKETPLACE_BASE_URL ?? `http://localhost:${e.MARKETPLACE_PORT}`).replace(/\/+$/, "");
  const dataDir = resolve(e.MARKETPLACE_DATA_DIR ?? `${DATA_ROOT}/.data/marketplace`);

  // A public (https) base URL is a real deployment whatever NODE_ENV says: nothing development-only applies.
  const deployed = e.NODE_ENV === "production" || baseUrl.startsWith("https://");
  if (e.NODE_ENV === "production") {
    if (!e.AUTH_SECRET) problems.push("AUTH_SECRET: required in production (at least 32 random characters)");
    if (!e.MARKETPLACE_BASE_URL) problems.push("MARKETPLACE_BASE_URL: required in production");
    else if (!baseUrl.startsWith("https://"))
      problems.push("MARKETPLACE_BASE_URL: must be https in production");
  } else if (deployed && !e.AUTH_SECRET) {
    problems.push("AUTH_SECRET: required with an https MARKETPLACE_BASE_URL (at least 32 random characters)");
  }
  if (e.DEV_CHECKOUT && deployed) {
    problems.push(
      "DEV_CHECKOUT: the payment-free development checkout is refused with NODE_ENV=production or an https MARKETPLACE_BASE_URL",
    );
  }
  if (e.JWKS_GRACE_PERIOD_SECONDS < e.ID_TOKEN_TTL_SECONDS) {
    problems.push(
      "JWKS_GRACE_PERIOD_SECONDS: must be at least ID_TOKEN_TTL_SECONDS, or ID tokens signed by a rotated-out key stop verifying",
    );
  }
  if (problems.length) {
    throw new ConfigError(`Invalid marketplace configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }

  const uiOrigin = e.MARKETPLACE_UI_ORIGIN ? new URL(e.MARKETPLACE_UI_ORIGIN).origin : undefined;
  return {
    env: e.NODE_ENV,
    deployed,
    port: e.MARKETPLACE_PORT,
    host: e.MARKETPLACE_HOST,
    baseUrl,
    issuer: `${baseUrl}/api/auth`,
    uiOrigin,
    crossOriginCookies: uiOrigin !== undefined && uiOrigin !== new URL(baseUrl).origin,
    webDir: resolve(e.MARKETPLACE_WEB_DIR ?? DEFAULT_WEB_DIR),
    database: e.DATABASE_URL
      ? { url: e.DATABASE_URL }
      : overrides.memoryDatabase
        ? { memory: true }
        : { dataDir: `${dataDir}/pg` },
    databasePoolSize: e.DATABASE_POOL_SIZE,
    usageBatch: { maxInFlight: e.USAGE_BATCH_IN_FLIGHT, maxBatch: e.USAGE_BATCH_MAX },
    dataDir,
    // Outside production a missing AUTH_SECRET is generated; an in-memory database gets a throwaway one.
    authSecret:
      e.AUTH_SECRET ??
      (overrides.memoryDatabase === true ? randomBytes(32).toString("base64url") : dataDirSecret(dataDir)),
    tokens: {
      accessTtl: e.ACCESS_TOKEN_TTL_SECONDS,
      idTtl: e.ID_TOKEN_TTL_SECONDS,
      refreshTtl: e.REFRESH_TOKEN_TTL_SECONDS,
      refreshReuseGrace: e.REFRESH_TOKEN_REUSE_GRACE_SECONDS,
      codeTtl: e.AUTH_CODE_TTL_SECONDS,
    },
    jwks: { rotationInterval: e.JWKS_ROTATION_INTERVAL_SECONDS, gracePeriod: e.JWKS_GRACE_PERIOD_SECONDS },
    bearerCacheTtlMs: e.BEARER_CACHE_TTL_MS,
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    rateLimit: e.RATE_LIMIT,
    trustProxy: e.TRUST_PROXY,
    redis: e.REDIS_URL ? { url: e.REDIS_URL, keyPrefix: e.REDIS_KEY_PREFIX } : undefined,
    logLevel: e.LOG_LEVEL,
    webhooks: { retryDelaySeconds: e.WEBHOOK_RETRY_DELAY_SECONDS },
    metrics: e.METRICS_TOKEN ? { token: e.METRICS_TOKEN } : e.NODE_ENV === "production" ? "off" : "open",
    stripe: { secretKey: e.STRIPE_SECRET_KEY, webhookSecret: e.STRIPE_WEBHOOK_SECRET },
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT } : undefined,
    devCheckout: e.DEV_CHECKOUT && !e.STRIPE_SECRET_KEY,
  };
}
