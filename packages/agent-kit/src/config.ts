import { DEFAULT_AGENT_SCOPES } from "@amp/contract";
import { z } from "zod";
import type { MarketplaceObserver } from "./observer.ts";
import type { AgentKitStorage } from "./storage/types.ts";

/** Used when a token response has no `expires_in` (B.24): assume an hour rather than "forever". */
export const DEFAULT_EXPIRES_IN = 3_600;

/**
 * agent-kit options, validated once by `createAgentKit`. Every problem is
 * reported in one error that names the option.
 */
export const AgentKitOptionsSchema = z.object({
  /** The marketplace's base URL, e.g. `https://marketplace.example.com`. The issuer is `<url>/api/auth`. */
  marketplaceUrl: z.url(),
  /**
   * Where this backend reaches the marketplace itself when that differs from the public URL (a container
   * network: `http://marketplace:4000`). Discovery, token, JWKS, userinfo, revocation and the usage API go
   * there; the issuer stays `<marketplaceUrl>/api/auth`, checked exactly, and browsers still go to
   * `marketplaceUrl`. @default marketplaceUrl
   */
  marketplaceInternalUrl: z.url().optional(),
  /** `AGENT_ID` from the agent's registration. */
  agentId: z.string().min(1),
  /** `AGENT_SLUG`, used for upgrade links (`<marketplace>/pricing/<slug>`). */
  agentSlug: z.string().min(1),
  /** `OAUTH_CLIENT_ID` (public client: no secret). */
  clientId: z.string().min(1),
  /** Public URL of this agent backend; the callback is `<baseURL>/api/auth/oauth2/callback/marketplace`. */
  baseURL: z.url(),
  /** At least 32 random characters; signs the session and encrypts OAuth tokens at rest. */
  secret: z.string().min(32, "must be at least 32 characters"),
  /**
   * `same-origin` (default): the web app and this backend share an origin; cookies are `SameSite=Lax`.
   * `cross-origin`: the web app lives on `frontendOrigin`; cookies are `SameSite=None; Secure`, CORS allows
   * exactly that origin with credentials, and mutating requests must come from it.
   */
  cookieMode: z.enum(["same-origin", "cross-origin"]).default("same-origin"),
  frontendOrigin: z.url().optional(),
  /** Cookie name prefix; must differ from the marketplace's when both run on localhost. @default "agent" */
  cookiePrefix: z
    .string()
    .regex(/^[a-z][a-z0-9_-]*$/)
    .default("agent"),
  /** @default openid profile email marketplace:role marketplace:agentTiers offline_access */
  scopes: z.array(z.string()).default([...DEFAULT_AGENT_SCOPES]),
  /**
   * OIDC `max_age` (seconds): the marketplace must have authenticated the user at most this long ago, and
   * the ID token must prove it with `auth_time` (B.20); otherwise the sign-in is refused. @default unset
   */
  maxAge: z.number().int().min(0).optional(),
  /** Refresh this long before the access token expires. @default 60 */
  refreshSkewSeconds: z.number().int().min(0).default(60),
  /** How long `getTier()` answers from memory. @default 5000 */
  tierCacheMs: z.number().int().min(0).default(5_000),
  /** Marketplace calls: per-attempt timeout and attempts (network errors and 503 only). */
  requestTimeoutMs: z.number().int().positive().default(3_000),
  maxAttempts: z.number().int().min(1).max(5).default(3),
  /**
   * Sign-in callbacks per client address (Express's `req.ip`: set `trust proxy` to your proxy hops) and window,
   * shared across processes through the database. Each callback may cost a token request at the marketplace,
   * whose budget is per agent; this keeps one browser's flood of forged callbacks from spending it.
   * @default { max: 30, windowSeconds: 60 }
   */
  callbackRateLimit: z
    .object({ max: z.number().int().positive(), windowSeconds: z.number().int().positive() })
    .default({ max: 30, windowSeconds: 60 }),
  /**
   * Allows an `http:` marketplace URL. Only for local development: tokens then travel in clear text.
   * @default false
   */
  allowInsecureMarketplace: z.boolean().default(false),
});

export type AgentKitOptions = z.input<typeof AgentKitOptionsSchema> & {
  /**
   * Where agent-kit keeps users, sessions, marketplace tokens, the callback throttle and the refresh lock:
   * `postgresStorage(pool)` (`@amp/agent-kit/postgres`), `pgliteStorage(pglite)` (`/pglite`),
   * `sqliteStorage(new DatabaseSync(file))` (`/sqlite`), or your own (docs/storage.md). Its tables are
   * created by `createAgentKit`.
   */
  storage: AgentKitStorage;
  /** Injected `fetch` (tests, proxies). @default globalThis.fetch */
  fetch?: typeof fetch;
  /** Told about every marketplace call, retry and tier-cache lookup (metrics); see observer.ts. */
  observer?: MarketplaceObserver;
};
export type ResolvedOptions = z.output<typeof AgentKitOptionsSchema> & {
  storage: AgentKitStorage;
  fetch: typeof fetch;
  /** `<marketplaceUrl>/api/auth`: the public issuer, compared exactly. */
  issuer: string;
  /** `marketplaceInternalUrl`, else `marketplaceUrl`: the base of every server-to-server call. */
  internalUrl: string;
  observer?: MarketplaceObserver;
};

export class AgentKitConfigError extends Error {
  override name = "AgentKitConfigError";
}

export function resolveOptions(options: AgentKitOptions): ResolvedOptions {
  const { storage, fetch: fetchImpl, observer, ...rest } = options;
  const parsed = AgentKitOptionsSchema.safeParse(rest);
  const problems = parsed.success
    ? []
    : parsed.error.issues.map((i) => `  ${i.path.join(".")}: ${i.message}`);
  if (!isStorage(storage))
    problems.push(
      "  storage: required (postgresStorage(pool), pgliteStorage(pglite), sqliteStorage(database), or your own)",
    );
  if (parsed.success) {
    const o = parsed.data;
    if (o.cookieMode === "cross-origin" && !o.frontendOrigin)
      problems.push("  frontendOrigin: required in cross-origin mode");
    if (new URL(o.marketplaceUrl).protocol === "http:" && !o.allowInsecureMarketplace) {
      problems.push("  marketplaceUrl: must be https (set allowInsecureMarketplace for local development)");
    }
    if (
      o.marketplaceInternalUrl &&
      new URL(o.marketplaceInternalUrl).protocol === "http:" &&
      !o.allowInsecureMarketplace
    ) {
      problems.push(
        "  marketplaceInternalUrl: must be https (set allowInsecureMarketplace for a trusted private network)",
      );
    }
    if (!o.scopes.includes("openid")) problems.push("  scopes: must include openid");
  }
  if (problems.length || !parsed.success)
    throw new AgentKitConfigError(`Invalid agent-kit configuration:\n${problems.join("\n")}`);
  const marketplaceUrl = parsed.data.marketplaceUrl.replace(/\/+$/, "");
  return {
    ...parsed.data,
    marketplaceUrl,
    baseURL: parsed.data.baseURL.replace(/\/+$/, ""),
    frontendOrigin: parsed.data.frontendOrigin ? new URL(parsed.data.frontendOrigin).origin : undefined,
    issuer: `${marketplaceUrl}/api/auth`,
    internalUrl: parsed.data.marketplaceInternalUrl?.replace(/\/+$/, "") ?? marketplaceUrl,
    storage,
    fetch: fetchImpl ?? globalThis.fetch,
    ...(observer ? { observer } : {}),
  };
}

function isStorage(value: unknown): value is AgentKitStorage {
  const s = value as Partial<AgentKitStorage> | undefined;
  return (
    !!s &&
    typeof s.migrate === "function" &&
    typeof s.throttle === "function" &&
    typeof s.withLock === "function" &&
    typeof s.accounts?.read === "function"
  );
}
