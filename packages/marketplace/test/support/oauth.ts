import { request as httpRequest } from "node:http";
import * as oauth from "oauth4webapi";

/**
 * A request over node:http. Node's fetch forces `Sec-Fetch-Mode: cors` (a
 * forbidden header), which makes every request look like a script's fetch;
 * a browser stand-in must be able to send a real navigation's headers.
 */
function rawRequest(
  url: URL,
  method: string,
  headers: Headers,
  body: RequestInit["body"],
): Promise<Response> {
  // Bytes go out as they are (a test may send invalid UTF-8 on purpose); everything else as its text.
  const payload =
    body === undefined || body === null
      ? undefined
      : body instanceof Uint8Array
        ? Buffer.from(body)
        : body.toString();
  if (payload !== undefined && !headers.has("content-type"))
    headers.set("content-type", "text/plain;charset=UTF-8");
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers: Object.fromEntries(headers) }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => {
        const out = new Headers();
        for (const [name, value] of Object.entries(res.headers)) {
          for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
            out.append(name, v);
        }
        const status = res.statusCode ?? 500;
        const noBody = status === 204 || status === 304;
        resolve(new Response(noBody ? null : Buffer.concat(chunks), { status, headers: out }));
      });
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end(payload);
  });
}

/** A cookie-keeping HTTP client that never follows redirects: a browser stand-in. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(readonly base: string) {}

  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set("cookie", [...this.cookies].map(([k, v]) => `${k}=${v}`).join("; "));
    if (!headers.has("accept")) {
      // What a browser sends for a top-level navigation.
      headers.set("accept", "text/html,application/xhtml+xml");
      headers.set("sec-fetch-mode", "navigate");
      headers.set("sec-fetch-dest", "document");
    }
    const response = await rawRequest(new URL(path, this.base), init.method ?? "GET", headers, init.body);
    for (const line of response.headers.getSetCookie()) {
      const [pair = "", ...attrs] = line.split(";");
      const eq = pair.indexOf("=");
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0\b/i.test(a.trim())) || value === "";
      if (expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  async postJson(path: string, body: unknown) {
    return this.fetch(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        origin: new URL(this.base).origin,
      },
      body: JSON.stringify(body),
    });
  }
}

let userCounter = 0;
export const PASSWORD = "correct horse battery staple";

/** Signs up a fresh user through the public API; the returned browser holds the session cookie. */
export async function signedInBrowser(base: string, overrides: { email?: string; name?: string } = {}) {
  const browser = new Browser(base);
  const email = overrides.email ?? `user${++userCounter}-${Date.now()}@example.com`;
  const response = await browser.postJson("/api/auth/sign-up/email", {
    email,
    password: PASSWORD,
    name: overrides.name ?? "Test User",
  });
  if (!response.ok) throw new Error(`sign-up failed: ${response.status} ${await response.text()}`);
  const { user } = (await response.json()) as { user: { id: string } };
  return { browser, email, userId: user.id };
}

export interface Pkce {
  verifier: string;
  challenge: string;
}

export async function pkce(): Promise<Pkce> {
  const verifier = oauth.generateRandomCodeVerifier();
  return { verifier, challenge: await oauth.calculatePKCECodeChallenge(verifier) };
}

/** Builds an authorize URL with sensible defaults; `params` override or (with `undefined`) remove any of them. */
export function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  const url = new URL(`${issuer}/oauth2/authorize`);
  for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, v);
  return url.toString();
}

export const AGENT_SCOPE = "openid profile email marketplace:role marketplace:agentTiers offline_access";

export interface FlowClient {
  clientId: string;
  redirectUri: string;
}

/** Runs authorize with a signed-in browser and returns the redirect's query parameters. */
export async function authorizeCode(
  issuer: string,
  browser: Browser,
  client: FlowClient,
  extra: Record<string, string | undefined> = {},
) {
  const challenge = await pkce();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  const response = await browser.fetch(
    authorizeUrl(issuer, {
      response_type: "code",
      client_id: client.clientId,
      redirect_uri: client.redirectUri,
      scope: AGENT_SCOPE,
      state,
      nonce,
      code_challenge: challenge.challenge,
      code_challenge_method: "S256",
      ...extra,
    }),
  );
  const location = await redirectTarget(response);
  if (!location) throw new Error(`authorize did not redirect: ${response.status} ${await response.text()}`);
  const url = new URL(location);
  return { url, code: url.searchParams.get("code"), state, nonce, pkce: challenge };
}

/** Where a response sends the browser: a 3xx Location, or the JSON `{ url }` form the provider uses for fetches. */
export async function redirectTarget(response: Response): Promise<string | null> {
  const location = response.headers.get("location");
  if (location) return location;
  if (response.headers.get("content-type")?.includes("json")) {
    const body = (await response.clone().json()) as { url?: string } | null;
    if (body?.url) return body.url;
  }
  return null;
}

/** POSTs a form to the token endpoint. */
export function tokenRequest(
  issuer: string,
  form: Record<string, string | undefined>,
  headers: Record<string, string> = {},
) {
  const body = new URLSearchParams();
  for (const [k, v] of Object.entries(form)) if (v !== undefined) body.set(k, v);
  return fetch(`${issuer}/oauth2/token`, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
  });
}

/** The whole code flow, ending with a token response (raw JSON). */
export async function fullFlow(
  issuer: string,
  browser: Browser,
  client: FlowClient,
  extra: Record<string, string | undefined> = {},
  tokenHeaders: Record<string, string> = {},
) {
  const auth = await authorizeCode(issuer, browser, client, extra);
  if (!auth.code) throw new Error(`no code: ${auth.url}`);
  const response = await tokenRequest(
    issuer,
    {
      grant_type: "authorization_code",
      code: auth.code,
      redirect_uri: client.redirectUri,
      client_id: client.clientId,
      code_verifier: auth.pkce.verifier,
    },
    tokenHeaders,
  );
  const tokens = (await response.json()) as TokenResponse;
  if (!response.ok) throw new Error(`token exchange failed: ${JSON.stringify(tokens)}`);
  return { ...auth, tokens };
}

export interface TokenResponse {
  access_token: string;
  token_type: string;
  expires_in: number;
  refresh_token?: string;
  id_token?: string;
  scope?: string;
  error?: string;
  error_description?: string;
}

export function decodeJwt(token: string): {
  header: Record<string, unknown>;
  payload: Record<string, unknown>;
} {
  const [h = "", p = ""] = token.split(".");
  return {
    header: JSON.parse(Buffer.from(h, "base64url").toString()),
    payload: JSON.parse(Buffer.from(p, "base64url").toString()),
  };
}
