import { randomBytes } from "node:crypto";
import { safeRedirect } from "@amp/contract";
import type { AgentAuth } from "../auth.ts";
import type { ResolvedOptions } from "../config.ts";
import type { Discovery } from "../discovery.ts";
import { CALLBACK_PATH, PROVIDER_ID } from "../provider.ts";
import type { Sessions } from "../session.ts";
import { Throttle } from "../throttle.ts";
import type { TokenManager } from "../tokens.ts";
import { errorPage } from "./error-page.ts";

export const SIGN_IN_PATH = "/api/auth/sign-in/marketplace";
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

/**
 * Sign-in and sign-out as Fetch handlers. better-auth is only ever called from here, with requests
 * agent-kit builds itself.
 */
export class AuthRoutes {
  /** F.4: sign-in callbacks per client address (each one may cost a marketplace token request). */
  private readonly callbacks: Throttle;

  constructor(
    private readonly options: ResolvedOptions,
    private readonly discovery: Discovery,
    private readonly auth: AgentAuth,
    private readonly tokens: TokenManager,
    private readonly sessions: Sessions,
  ) {
    this.callbacks = new Throttle(options.storage, options.callbackRateLimit);
  }

  /**
   * Handles the routes of AUTH_ROUTES; any other `/api/auth/` path answers 404; null for any other path.
   * `clientIp` is the browser's address as the adapter knows it (the socket, or a trusted proxy's header);
   * it keys the callback throttle.
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
   * Ends the agent session and revokes the user's refresh token at the marketplace (RFC 7009). With
   * `endMarketplaceSession`, also returns the marketplace's end-session URL (id_token_hint,
   * post_logout_redirect_uri, state) for the browser to visit.
   */
  private async signOut(request: Request, endMarketplaceSession: boolean): Promise<Response> {
    const user = await this.sessions.user(request.headers);
    this.sessions.forget(request.headers);
    let endSessionUrl: string | null = null;
    if (user) {
      const { refreshToken, idToken } = await this.tokens.storedForSignOut(user.id);
      if (refreshToken) await this.tokens.revoke(refreshToken);
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
