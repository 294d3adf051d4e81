import { randomBytes } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

type Key = Awaited<ReturnType<typeof generateKeyPair>>;

/** What the provider does on the next sign-in; every field is a way to misbehave. */
export interface Behaviour {
  /** Claims to override (undefined deletes a claim). */
  claims?: Record<string, unknown>;
  /** Replace the signed token entirely. */
  token?: (ctx: {
    payload: JWTPayload;
    sign: (p: JWTPayload, header?: Record<string, unknown>, key?: Key) => Promise<string>;
  }) => Promise<string>;
  /** Header fields for the default signer (e.g. `{ kid: undefined }`). */
  header?: Record<string, unknown>;
  /** Omit or change `iss` on the authorization response. */
  responseIss?: string | null;
  /** `sub` that userinfo reports. */
  userinfoSub?: string;
  /** Edits the token endpoint's JSON answer (e.g. drop `expires_in`, lowercase `token_type`). */
  tokenResponse?: (body: Record<string, unknown>) => void;
  /** Claims to override in the ID token of a refresh response (undefined deletes a claim). */
  refreshClaims?: Record<string, unknown>;
  /** Leave `refresh_token` out of refresh responses (no rotation). */
  noRefreshRotation?: boolean;
}

/** A request the provider saw, as it arrived (to check where a client put its bearer token). */
export interface SeenRequest {
  method: string;
  url: string;
  headers: import("node:http").IncomingHttpHeaders;
  body: string;
}

/**
 * A small, deliberately configurable OpenID provider for agent-kit's
 * negative tests (SECURITY-TESTS.md §B): discovery, authorize, token, JWKS
 * and userinfo, built with jose. It mints whatever broken ID token a test asks for.
 */
export class HostileProvider {
  server!: Server;
  base = "";
  issuer = "";
  clientId = "hostile-client";
  keys: Key[] = [];
  kids: string[] = [];
  publishedKeys = 1;
  behaviour: Behaviour = {};
  discoveryIssuer?: string;
  calls = { token: 0, jwks: 0, userinfo: 0 };
  authorizeRequests: URLSearchParams[] = [];
  /** Userinfo and resource (non-`/api/auth`) requests, in order. */
  seen: SeenRequest[] = [];
  /** Every request's path (without `/api/auth`) and the Host it was addressed to, in order. */
  hosts: { path: string; host: string }[] = [];
  /** Refresh tokens presented at the token endpoint, in order. */
  presentedRefreshTokens: string[] = [];
  /** Refresh tokens this provider issued and that are still valid (rotation retires the presented one). */
  readonly liveRefreshTokens = new Set<string>();
  private readonly codes = new Map<string, { nonce: string | null }>();

  static async start(): Promise<HostileProvider> {
    const p = new HostileProvider();
    for (let i = 0; i < 2; i++) {
      p.keys.push(await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true }));
      p.kids.push(`k${i + 1}`);
    }
    p.server = createServer(
      (req, res) => void p.route(req.method ?? "GET", new URL(req.url ?? "/", "http://x"), req, res),
    );
    await new Promise<void>((resolve) => p.server.listen(0, "127.0.0.1", resolve));
    p.base = `http://127.0.0.1:${(p.server.address() as AddressInfo).port}`;
    p.issuer = `${p.base}/api/auth`;
    return p;
  }

  /**
   * Publishes this provider under another base URL that reaches the same server (e.g. `localhost` for
   * `127.0.0.1`): the issuer and every discovery endpoint then name it, as a marketplace behind a public
   * hostname does while its agents call it on an internal one.
   */
  publishAt(publicBase: string) {
    this.issuer = `${publicBase}/api/auth`;
  }

  close() {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(resolve));
  }

  sign = async (payload: JWTPayload, header: Record<string, unknown> = {}, key = this.keys[0]!) => {
    const h = { alg: "EdDSA", kid: this.kids[this.keys.indexOf(key)], ...header };
    for (const k of Object.keys(h))
      if ((h as Record<string, unknown>)[k] === undefined) delete (h as Record<string, unknown>)[k];
    return new SignJWT(payload).setProtectedHeader(h as { alg: string }).sign(key.privateKey);
  };

  private async idToken(nonce: string | null, extra: Record<string, unknown> = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const payload: Record<string, unknown> = {
      iss: this.issuer,
      sub: "hostile-user-1",
      aud: this.clientId,
      exp: now + 600,
      iat: now,
      nonce,
      email: "victim@example.com",
      name: "Victim",
      ...this.behaviour.claims,
      ...extra,
    };
    for (const k of Object.keys(payload))
      if (payload[k] === undefined || payload[k] === null) delete payload[k];
    if (this.behaviour.token)
      return this.behaviour.token({ payload: payload as JWTPayload, sign: this.sign });
    return this.sign(payload as JWTPayload, this.behaviour.header);
  }

  private async route(
    method: string,
    url: URL,
    req: import("node:http").IncomingMessage,
    res: import("node:http").ServerResponse,
  ) {
    const json = (status: number, body: unknown) =>
      res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
    const path = url.pathname.replace(/^\/api\/auth/, "");
    this.hosts.push({ path, host: req.headers.host ?? "" });
    if (path === "/.well-known/openid-configuration") {
      return json(200, {
        issuer: this.discoveryIssuer ?? this.issuer,
        authorization_endpoint: `${this.issuer}/authorize`,
        token_endpoint: `${this.issuer}/token`,
        userinfo_endpoint: `${this.issuer}/userinfo`,
        jwks_uri: `${this.issuer}/jwks`,
        id_token_signing_alg_values_supported: ["EdDSA"],
        code_challenge_methods_supported: ["S256"],
        authorization_response_iss_parameter_supported: true,
      });
    }
    if (path === "/jwks") {
      this.calls.jwks++;
      const keys: JWK[] = [];
      for (let i = 0; i < this.publishedKeys; i++)
        keys.push({
          ...(await exportJWK(this.keys[i]!.publicKey)),
          kid: this.kids[i],
          alg: "EdDSA",
          use: "sig",
        });
      return json(200, { keys });
    }
    if (path === "/authorize") {
      this.authorizeRequests.push(url.searchParams);
      const code = randomBytes(16).toString("hex");
      this.codes.set(code, { nonce: url.searchParams.get("nonce") });
      const back = new URL(url.searchParams.get("redirect_uri")!);
      back.searchParams.set("code", code);
      back.searchParams.set("state", url.searchParams.get("state") ?? "");
      const iss = this.behaviour.responseIss === undefined ? this.issuer : this.behaviour.responseIss;
      if (iss !== null) back.searchParams.set("iss", iss);
      return res.writeHead(302, { location: back.toString() }).end();
    }
    if (path === "/token" && method === "POST") {
      this.calls.token++;
      let body = "";
      for await (const chunk of req) body += chunk;
      const form = new URLSearchParams(body);
      const tokens = (idToken: string, refresh = true) => {
        const refreshToken = randomBytes(16).toString("hex");
        if (refresh) this.liveRefreshTokens.add(refreshToken);
        const answer: Record<string, unknown> = {
          access_token: randomBytes(16).toString("hex"),
          token_type: "Bearer",
          expires_in: 600,
          scope: "openid profile email offline_access",
          id_token: idToken,
          ...(refresh ? { refresh_token: refreshToken } : {}),
        };
        this.behaviour.tokenResponse?.(answer);
        return answer;
      };
      if (form.get("grant_type") === "refresh_token") {
        const presented = form.get("refresh_token") ?? "";
        this.presentedRefreshTokens.push(presented);
        if (!this.liveRefreshTokens.has(presented)) return json(400, { error: "invalid_grant" });
        const rotate = !this.behaviour.noRefreshRotation;
        if (rotate) this.liveRefreshTokens.delete(presented);
        // A refreshed ID token carries no nonce (OIDC Core §12.2).
        const idToken = await this.idToken(null, this.behaviour.refreshClaims);
        return json(200, tokens(idToken, rotate));
      }
      const code = form.get("code") ?? "";
      const grant = this.codes.get(code);
      if (!grant) return json(400, { error: "invalid_grant" });
      this.codes.delete(code);
      return json(200, tokens(await this.idToken(grant.nonce)));
    }
    if (path === "/userinfo" || !url.pathname.startsWith("/api/auth")) {
      let body = "";
      for await (const chunk of req) body += chunk;
      this.seen.push({ method, url: url.pathname + url.search, headers: req.headers, body });
    }
    if (path === "/userinfo") {
      this.calls.userinfo++;
      return json(200, {
        sub: this.behaviour.userinfoSub ?? "hostile-user-1",
        email: "victim@example.com",
        name: "Victim",
      });
    }
    json(404, { error: "not_found" });
  }
}
