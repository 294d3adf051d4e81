import { randomBytes } from "node:crypto";
import { type MarketplaceUser, originAllowed, safeRedirect } from "@amp/contract";
import { type AgentAuth, CALLBACK_PATH, createAgentAuth, PROVIDER_ID } from "./auth.ts";
import { MarketplaceClient } from "./client.ts";
import { type AgentKitOptions, type ResolvedOptions, resolveOptions } from "./config.ts";
import { type Discovery, discover } from "./discovery.ts";
import {
  MarketplaceError,
  MarketplaceUnavailableError,
  MetricNotFoundError,
  QuotaExceededError,
  SignInRequiredError,
  SubscriptionRequiredError,
} from "./errors.ts";
import { idTokenVerifier } from "./id-token.ts";
import { Throttle } from "./throttle.ts";
import { TokenManager } from "./tokens.ts";

/** A signed-in user of this agent. `id` is the agent's own user id; `marketplaceUserId` is the marketplace `sub`. */
export interface AgentUser {
  id: string;
  marketplaceUserId: string;
  email: string;
  name: string;
  image: string | null;
  marketplaceRole: MarketplaceUser["marketplaceRole"];
}

/** An HTTP answer in framework-neutral form; adapters write it out. */
export interface KitReply {
  status: number;
  body: Record<string, unknown>;
}

const SIGN_IN_PATH = "/api/auth/sign-in/marketplace";
const ERROR_PATH = "/api/auth/sign-in/error";
const SIGN_OUT_PATH = "/api/auth/sign-out";

/**
 * F.5: the only `/api/auth` routes a browser reaches. better-auth's other endpoints stay unexposed (404):
 * `get-access-token` and `refresh-token` would hand marketplace tokens to the browser (and rotate the refresh
 * token outside the TokenManager's lock), `get-session` would show the HttpOnly session token to scripts, and
 * the account/password/email routes serve features an agent does not have. The session is `GET /me`.
 */
export const AUTH_ROUTES = [
  { method: "GET", path: SIGN_IN_PATH },
  { method: "GET", path: CALLBACK_PATH },
  { method: "GET", path: ERROR_PATH },
  { method: "POST", path: SIGN_OUT_PATH },
] as const;
const SESSION_MEMO_MS = 5_000;

/**
 * The framework-free core of agent-kit: auth routes as Fetch handlers, the
 * signed-in user, safe tokens, a per-user marketplace client, and the mapping
 * of marketplace failures to agent responses. Adapters (./express) are thin.
 */
export class AgentKit {
  readonly tokens: TokenManager;
  private readonly tierCache = new Map();
  /** agent user id → marketplace `sub` (an account's subject never changes). */
  private readonly subjects = new Map<string, string>();
  /**
   * Session cookie → user for SESSION_MEMO_MS: the requests of one page load ask about the same session. Signing
   * out here evicts at once; a session ended in another process is seen within the memo (and cookie-cache) window.
   */
  private readonly sessions = new Map<string, { user: AgentUser; until: number }>();
  /** F.4: sign-in callbacks per client address (each one may cost a marketplace token request). */
  private readonly callbacks: Throttle;

  private constructor(
    readonly options: ResolvedOptions,
    readonly discovery: Discovery,
    readonly auth: AgentAuth,
    tokens: TokenManager,
  ) {
    this.tokens = tokens;
    this.callbacks = new Throttle(options.database.sql, options.callbackRateLimit);
  }

  static async create(input: AgentKitOptions): Promise<AgentKit> {
    const options = resolveOptions(input);
    const discovery = await discover(options);
    const verifier = idTokenVerifier({
      jwksUri: discovery.jwks_uri,
      issuer: options.issuer,
      clientId: options.clientId,
      fetch: options.fetch,
    });
    const auth = createAgentAuth(options, discovery, verifier);
    const tokens = new TokenManager({
      sql: options.database.sql,
      secret: options.secret,
      tokenEndpoint: discovery.token_endpoint,
      clientId: options.clientId,
      refreshSkewSeconds: options.refreshSkewSeconds,
      requestTimeoutMs: options.requestTimeoutMs,
      verifier,
      fetch: options.fetch,
    });
    return new AgentKit(options, discovery, auth, tokens);
  }

  /** The marketplace for one user. */
  client(userId: string): MarketplaceClient {
    return new MarketplaceClient(
      {
        marketplaceUrl: this.options.marketplaceUrl,
        agentId: this.options.agentId,
        agentSlug: this.options.agentSlug,
        tokens: this.tokens,
        fetch: this.options.fetch,
        requestTimeoutMs: this.options.requestTimeoutMs,
        maxAttempts: this.options.maxAttempts,
        tierCacheMs: this.options.tierCacheMs,
        tierCache: this.tierCache,
        ...(this.options.observer ? { observer: this.options.observer } : {}),
      },
      userId,
    );
  }

  get upgradeUrl() {
    return `${this.options.marketplaceUrl}/pricing/${this.options.agentSlug}`;
  }

  /** Where to send a visitor to sign in; `returnTo` is validated when they come back. */
  signInUrl(returnTo = "/") {
    return `${this.options.baseURL}${SIGN_IN_PATH}?returnTo=${encodeURIComponent(returnTo)}`;
  }

  /** The signed-in user of a request, or null. */
  async getUser(headers: Headers): Promise<AgentUser | null> {
    const key = this.sessionKey(headers);
    const hit = key ? this.sessions.get(key) : undefined;
    if (hit && hit.until > Date.now()) return hit.user;
    const session = await this.auth.api.getSession({ headers });
    if (!session) return null;
    const user = session.user as typeof session.user & { marketplaceRole?: string };
    const agentUser: AgentUser = {
      id: user.id,
      marketplaceUserId: await this.subjectOf(user.id),
      email: user.email,
      name: user.name,
      image: user.image ?? null,
      marketplaceRole: (user.marketplaceRole as AgentUser["marketplaceRole"]) ?? "org_member",
    };
    if (key) {
      if (this.sessions.size > 100_000) this.sessions.clear();
      this.sessions.set(key, { user: agentUser, until: Date.now() + SESSION_MEMO_MS });
    }
    return agentUser;
  }

  /** The session cookie of a request ("name=value"), which identifies the session for the memo. */
  private sessionKey(headers: Headers): string | null {
    const name = `${this.options.cookiePrefix}.session_token=`;
    for (const part of (headers.get("cookie") ?? "").split(";")) {
      const pair = part.trim();
      if (pair.startsWith(name) || pair.startsWith(`__Secure-${name}`)) return pair;
    }
    return null;
  }

  private async subjectOf(userId: string): Promise<string> {
    const known = this.subjects.get(userId);
    if (known) return known;
    const { rows } = await this.options.database.sql.query<{ accountId: string }>(
      `SELECT "accountId" FROM "account" WHERE "userId" = $1 AND "providerId" = $2 LIMIT 1`,
      [userId, PROVIDER_ID],
    );
    const subject = rows[0]?.accountId ?? userId;
    if (this.subjects.size > 100_000) this.subjects.clear();
    this.subjects.set(userId, subject);
    return subject;
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
    const own = new URL(this.options.baseURL).origin;
    return this.options.frontendOrigin ? [own, this.options.frontendOrigin] : [own];
  }

  /**
   * F.6 / B.33: a state-changing request carrying cookies must come from a trusted origin (see origin.ts), in
   * every cookie mode. Returns a 403 reply when it does not.
   */
  checkOrigin(method: string, headers: Headers): KitReply | null {
    if (originAllowed(this.trustedOrigins, method, headers)) return null;
    return {
      status: 403,
      body: { error: "forbidden_origin", message: "This request must come from the agent's web app." },
    };
  }

  /** CORS response headers for an allowed origin (exact origin, never `*`). */
  corsHeaders(origin: string | null): Record<string, string> {
    if (this.options.cookieMode !== "cross-origin" || !origin || origin !== this.options.frontendOrigin)
      return {};
    return {
      "access-control-allow-origin": origin,
      "access-control-allow-credentials": "true",
      "access-control-allow-methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
      "access-control-allow-headers": "content-type, x-requested-with",
      vary: "Origin",
    };
  }

  /** Maps a marketplace failure to what the agent answers its own client (CONTRACT.md §8). */
  replyFor(error: unknown, returnTo = "/"): KitReply {
    if (error instanceof QuotaExceededError) {
      return {
        status: 429,
        body: {
          error: "quota_exceeded",
          upgradeUrl: this.upgradeUrl,
          resetsAt: error.resetsAt,
          remaining: error.remaining,
          effectiveQuota: error.effectiveQuota,
        },
      };
    }
    if (error instanceof SubscriptionRequiredError)
      return {
        status: 402,
        body: { error: "subscription_required", subscribe: true, upgradeUrl: this.upgradeUrl },
      };
    if (error instanceof SignInRequiredError)
      return { status: 401, body: { error: "sign_in_required", signInUrl: this.signInUrl(returnTo) } };
    if (error instanceof MarketplaceUnavailableError)
      return {
        status: 503,
        body: { error: "try_again", message: "The marketplace is unavailable; try again shortly." },
      };
    if (error instanceof MetricNotFoundError)
      return { status: 500, body: { error: "metric_not_configured", message: error.message } };
    if (error instanceof MarketplaceError)
      return { status: 502, body: { error: "marketplace_error", code: error.code } };
    throw error;
  }

  /**
   * Handles the routes of AUTH_ROUTES; any other `/api/auth/` path answers 404; null for any other path.
   * better-auth is only ever called from here with requests agent-kit builds itself. `clientIp` is the
   * browser's address as the adapter knows it (the socket, or a trusted proxy's header); it keys the
   * callback throttle.
   */
  async handle(request: Request, context: { clientIp?: string } = {}): Promise<Response | null> {
    const url = new URL(request.url);
    if (!url.pathname.startsWith("/api/auth/")) return null;
    const get = request.method === "GET";
    if (url.pathname === SIGN_IN_PATH && get) return this.startSignIn(url);
    // The core callback (/api/auth/callback/:id) is reachable only through CALLBACK_PATH, which checks `iss` first.
    if (url.pathname === CALLBACK_PATH && get)
      return this.callback(url, request, context.clientIp ?? "unknown");
    if (url.pathname === ERROR_PATH && get)
      return errorPage(
        url.searchParams.get("error") ?? "sign_in_failed",
        url.searchParams.get("error_description"),
      );
    if (url.pathname === SIGN_OUT_PATH && request.method === "POST")
      return this.signOut(request, url.searchParams.get("marketplace") === "true");
    return Response.json(
      { error: "not_found", message: `No route for ${request.method} ${url.pathname}` },
      { status: 404 },
    );
  }

  /** B.7 / F.7: a path on this backend, or an absolute URL on the web app's origin; anything else is `/`. */
  private returnTarget(value: string | null): string {
    const frontend = this.options.frontendOrigin;
    return safeRedirect(value, { base: this.options.baseURL, allowedOrigins: frontend ? [frontend] : [] });
  }

  private async startSignIn(url: URL): Promise<Response> {
    const returnTo = this.returnTarget(url.searchParams.get("returnTo"));
    const response = await this.auth.handler(
      new Request(`${this.options.baseURL}/api/auth/sign-in/social`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: new URL(this.options.baseURL).origin },
        body: JSON.stringify({
          provider: PROVIDER_ID,
          callbackURL: returnTo,
          errorCallbackURL: ERROR_PATH,
          disableRedirect: true,
        }),
      }),
    );
    const body = (await response.json().catch(() => null)) as { url?: string } | null;
    if (!response.ok || !body?.url)
      return errorPage("sign_in_unavailable", "The marketplace sign-in could not start.");
    const headers = new Headers({
      location: body.url,
      "cache-control": "no-store",
      "referrer-policy": "no-referrer",
    });
    for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
    return new Response(null, { status: 302, headers });
  }

  private async callback(url: URL, request: Request, clientIp: string): Promise<Response> {
    const error = url.searchParams.get("error");
    if (error) return errorPage(error, url.searchParams.get("error_description"));
    // RFC 9207 (B.4): the marketplace always sends `iss`; a missing or different one is a mix-up attempt.
    if (url.searchParams.get("iss") !== this.options.issuer)
      return errorPage("issuer_mismatch", "The sign-in response did not come from the marketplace.");
    // F.4: past this point a callback may cost a token request; a browser gets a bounded number of them.
    const verdict = await this.callbacks.hit(`callback:${clientIp}`);
    if (!verdict.allowed) {
      return errorPage(
        "too_many_sign_ins",
        "Too many sign-in attempts from this network. Wait a minute and try again.",
        new Headers({ "retry-after": String(verdict.retryAfter) }),
        429,
      );
    }
    const core = new URL(`${this.options.baseURL}/api/auth/callback/${PROVIDER_ID}`);
    core.search = url.search;
    const response = await this.auth.handler(new Request(core, { method: "GET", headers: request.headers }));
    const location = response.headers.get("location");
    const headers = new Headers({ "cache-control": "no-store", "referrer-policy": "no-referrer" });
    for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
    if (!location) return errorPage("sign_in_failed", "The sign-in could not be completed.");
    const target = new URL(location, this.options.baseURL);
    if (target.pathname === ERROR_PATH || target.pathname === "/api/auth/error") {
      return errorPage(
        target.searchParams.get("error") ?? "sign_in_failed",
        target.searchParams.get("error_description"),
        headers,
      );
    }
    // B.6: 303 to a URL without the code, and no Referer carrying it. The target was checked at sign-in start;
    // checking it again here keeps the rule in force whatever better-auth stored.
    headers.set("location", this.returnTarget(location));
    return new Response(null, { status: 303, headers });
  }

  /**
   * Ends the agent session and revokes the user's refresh token at the
   * marketplace (RFC 7009). With `endMarketplaceSession`, also returns the
   * marketplace's end-session URL (id_token_hint, post_logout_redirect_uri,
   * state) for the browser to visit.
   */
  private async signOut(request: Request, endMarketplaceSession: boolean): Promise<Response> {
    const user = await this.getUser(request.headers);
    const key = this.sessionKey(request.headers);
    if (key) this.sessions.delete(key);
    let endSessionUrl: string | null = null;
    if (user) {
      const { refreshToken, idToken } = await this.tokens.storedForSignOut(user.id);
      if (refreshToken && this.discovery.revocation_endpoint) {
        await this.options
          .fetch(this.discovery.revocation_endpoint, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({
              token: refreshToken,
              token_type_hint: "refresh_token",
              client_id: this.options.clientId,
            }),
            signal: AbortSignal.timeout(this.options.requestTimeoutMs),
          })
          .catch(() => undefined); // Revocation is best effort; the local session ends regardless.
      }
      await this.tokens.clear(user.id);
      if (endMarketplaceSession && idToken && this.discovery.end_session_endpoint) {
        const target = new URL(this.discovery.end_session_endpoint);
        target.searchParams.set("id_token_hint", idToken);
        target.searchParams.set(
          "post_logout_redirect_uri",
          `${this.options.frontendOrigin ?? this.options.baseURL}/`,
        );
        target.searchParams.set("state", randomBytes(16).toString("base64url"));
        endSessionUrl = target.toString();
      }
    }
    const response = await this.auth.handler(
      new Request(`${this.options.baseURL}/api/auth/sign-out`, {
        method: "POST",
        headers: {
          cookie: request.headers.get("cookie") ?? "",
          origin: new URL(this.options.baseURL).origin,
          "content-type": "application/json",
        },
        body: "{}",
      }),
    );
    const headers = new Headers({ "content-type": "application/json", "cache-control": "no-store" });
    for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
    return new Response(JSON.stringify({ signedOut: true, endSessionUrl }), { status: 200, headers });
  }
}

/** The one HTML page agent-kit renders: a sign-in failure, every value escaped (B.5). */
function errorPage(
  code: string,
  description: string | null,
  headers = new Headers(),
  status = 400,
): Response {
  const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
  headers.set("content-type", "text/html; charset=utf-8");
  headers.set("cache-control", "no-store");
  headers.set("referrer-policy", "no-referrer");
  headers.set(
    "content-security-policy",
    "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
  );
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign-in failed</title></head><body><main><h1>Sign-in did not complete</h1><p role="alert">${escapeHtml(description ?? code)}</p><p><a href="/">Back</a></p></main></body></html>`;
  return new Response(body, { status, headers });
}

export async function createAgentKit(options: AgentKitOptions): Promise<AgentKit> {
  return AgentKit.create(options);
}
