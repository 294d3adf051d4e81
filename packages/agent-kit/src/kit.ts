import { type AgentAuth, createAgentAuth } from "./auth.ts";
import { boundedCache } from "./cache.ts";
import { type ClientDeps, MarketplaceClient } from "./client.ts";
import { type AgentKitOptions, type ResolvedOptions, resolveOptions } from "./config.ts";
import { type Discovery, discover } from "./discovery.ts";
import { AUTH_ROUTES, AuthRoutes, SIGN_IN_PATH } from "./http/auth-routes.ts";
import { OriginPolicy } from "./http/origin.ts";
import { type KitReply, replyFor } from "./http/reply.ts";
import { idTokenVerifier } from "./id-token.ts";
import { type AgentUser, Sessions } from "./session.ts";
import { TokenManager } from "./tokens.ts";
import { UserEventBus } from "./webhooks/events.ts";
import { type WebhookOptions, WebhookReceiver } from "./webhooks/receiver.ts";

export { type AgentUser, AUTH_ROUTES, type KitReply };

/** Users (and sessions) whose tier, token and session this process keeps in memory at most. */
const MAX_USERS_IN_MEMORY = 10_000;
/** A tier is fresh for `tierCacheMs`; kept this long so a marketplace outage can still serve it stale. */
const TIER_KEEP_MS = 10 * 60_000;

/**
 * The framework-free core of agent-kit: auth routes as Fetch handlers, the signed-in user, safe tokens, a
 * per-user marketplace client, and the mapping of marketplace failures to agent responses. Adapters
 * (./express) are thin. Each concern lives in its own file: session.ts, tokens.ts, http/auth-routes.ts,
 * http/origin.ts, http/reply.ts, client.ts.
 */
export class AgentKit {
  private readonly sessions: Sessions;
  private readonly routes: AuthRoutes;
  private readonly origins: OriginPolicy;
  /** Shared by every user's client: building one per request is then a single small object. */
  private readonly clientDeps: ClientDeps;
  /** This process's open browser event streams (`GET /api/me/events`), fed by the webhook route. */
  readonly userEvents = new UserEventBus();

  private constructor(
    readonly options: ResolvedOptions,
    readonly discovery: Discovery,
    readonly auth: AgentAuth,
    readonly tokens: TokenManager,
  ) {
    this.sessions = new Sessions(auth, tokens, options.cookiePrefix, MAX_USERS_IN_MEMORY);
    this.routes = new AuthRoutes(options, discovery, auth, tokens, this.sessions);
    this.origins = new OriginPolicy(options);
    this.clientDeps = {
      marketplaceUrl: options.marketplaceUrl,
      apiUrl: options.internalUrl,
      agentId: options.agentId,
      agentSlug: options.agentSlug,
      tokens,
      fetch: options.fetch,
      requestTimeoutMs: options.requestTimeoutMs,
      maxAttempts: options.maxAttempts,
      tierCacheMs: options.tierCacheMs,
      tierCache: boundedCache({
        max: MAX_USERS_IN_MEMORY,
        ttlMs: Math.max(TIER_KEEP_MS, options.tierCacheMs),
      }),
      ...(options.observer ? { observer: options.observer } : {}),
    };
  }

  /** Validates the options, creates the storage's tables, reads discovery and sets up better-auth. */
  static async create(input: AgentKitOptions): Promise<AgentKit> {
    const options = resolveOptions(input);
    await options.storage.migrate();
    const discovery = await discover(options);
    const verifier = idTokenVerifier({
      jwksUri: discovery.jwks_uri,
      issuer: options.issuer,
      clientId: options.clientId,
      fetch: options.fetch,
    });
    const auth = createAgentAuth(options, discovery, verifier);
    // better-auth sets itself up lazily; doing it now makes a bad configuration fail at startup.
    await auth.$context;
    const tokens = new TokenManager({
      storage: options.storage,
      secret: options.secret,
      discovery,
      clientId: options.clientId,
      refreshSkewSeconds: options.refreshSkewSeconds,
      requestTimeoutMs: options.requestTimeoutMs,
      verifier,
      fetch: options.fetch,
      allowInsecure: options.allowInsecureMarketplace,
      maxUsers: MAX_USERS_IN_MEMORY,
    });
    return new AgentKit(options, discovery, auth, tokens);
  }

  /**
   * The receiver of the marketplace's pushed events (docs/agent-events.md); adapters mount it
   * (`expressAdapter(kit).webhooks({ secrets })`).
   */
  webhookReceiver(options: WebhookOptions): WebhookReceiver {
    const ledger = this.options.storage.webhooks;
    if (!ledger)
      throw new Error(`webhooks: the ${this.options.storage.kind} storage keeps no webhook ledger`);
    return new WebhookReceiver(options, {
      agentId: this.options.agentId,
      ledger,
      forgetUser: (userId) => this.forgetUser(userId),
      bus: this.userEvents,
    });
  }

  /** Drops what this process caches about a user (the tier), so the next read asks the marketplace. */
  forgetUser(userId: string) {
    this.clientDeps.tierCache.delete(userId);
  }

  /** The marketplace for one user. */
  client(userId: string): MarketplaceClient {
    return new MarketplaceClient(this.clientDeps, userId);
  }

  get upgradeUrl() {
    return `${this.options.marketplaceUrl}/pricing/${this.options.agentSlug}`;
  }

  /** Where to send a visitor to sign in; `returnTo` is validated when they come back. */
  signInUrl(returnTo = "/") {
    return `${this.options.baseURL}${SIGN_IN_PATH}?returnTo=${encodeURIComponent(returnTo)}`;
  }

  /** The signed-in user of a request, or null. */
  getUser(headers: Headers): Promise<AgentUser | null> {
    return this.sessions.user(headers);
  }

  /** `GET /me` body (CONTRACT.md §8): the marketplace identity of the user. */
  me(user: AgentUser) {
    return {
      id: user.marketplaceUserId,
      email: user.email,
      name: user.name,
      marketplaceRole: user.marketplaceRole,
    };
  }

  /** The origins this agent's own pages are served from: the backend's and, if configured, the web app's. */
  get trustedOrigins(): string[] {
    return this.origins.trustedOrigins;
  }

  /** F.6 / B.33: a 403 reply when a cookie-carrying state change does not come from a trusted origin. */
  checkOrigin(method: string, headers: Headers): KitReply | null {
    return this.origins.check(method, headers);
  }

  /** CORS response headers for an allowed origin (exact origin, never `*`). */
  corsHeaders(origin: string | null): Record<string, string> {
    return this.origins.corsHeaders(origin);
  }

  /** Maps a marketplace failure to what the agent answers its own client (CONTRACT.md §8). */
  replyFor(error: unknown, returnTo = "/"): KitReply {
    return replyFor(error, { upgradeUrl: this.upgradeUrl, signInUrl: this.signInUrl(returnTo) });
  }

  /** The auth routes (AUTH_ROUTES) as a Fetch handler: a Response, or null for a path that is not `/api/auth/`. */
  handle(request: Request, context: { clientIp?: string } = {}): Promise<Response | null> {
    return this.routes.handle(request, context);
  }
}

export async function createAgentKit(options: AgentKitOptions): Promise<AgentKit> {
  return AgentKit.create(options);
}
