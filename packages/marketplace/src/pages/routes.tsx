import { safeRedirect } from "@amp/contract";
import { type Context, Hono } from "hono";
import { createMiddleware } from "hono/factory";
import { type Auth, CLIENT_IP_HEADER } from "../auth/auth.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import { readJson } from "../http/read-json.ts";
import { ConsentPage, ErrorPage, SignedOutPage, SignInPage, SignUpPage } from "./auth-pages.tsx";
import { issueCsrf, verifyCsrf } from "./csrf.ts";
import { page } from "./render.ts";
import { requestingApp } from "./requesting-app.ts";

/**
 * The marketplace's server-rendered pages: plain HTML forms that work without
 * JavaScript. A sign-in or sign-up that carries a signed `oauth_query` (put
 * there by `/oauth2/authorize` when it found no session) continues that same
 * authorization request once the session exists.
 */
export function pageRoutes(auth: Auth, config: Config, db: Db) {
  const app = new Hono();
  const origin = new URL(config.baseUrl).origin;
  const secure = config.baseUrl.startsWith("https://");
  const csrf = (c: Context) => issueCsrf(c, secure);
  /** Where to continue after sign-in: a path on this origin, by the one redirect rule (issue 9 §7). */
  const safeNext = (next: string | undefined) =>
    safeRedirect(next, { base: config.baseUrl, allowedOrigins: config.uiOrigin ? [config.uiOrigin] : [] });
  /** The agent (or bare client) a signed authorization request on the page's URL belongs to. */
  const appOf = (oauthQuery: string, headers: Headers) =>
    oauthQuery ? requestingApp(db, auth, new URLSearchParams(oauthQuery).get("client_id"), headers) : null;

  // Only on these pages: the web app and its assets (web/routes.ts) set their own caching and CSP.
  const pageHeaders = createMiddleware(async (c, next) => {
    await next();
    c.header(
      "Content-Security-Policy",
      "default-src 'self'; style-src 'unsafe-inline'; img-src 'self' https: data:; frame-ancestors 'none'; base-uri 'none'",
    );
    c.header("X-Frame-Options", "DENY");
    c.header("Referrer-Policy", "no-referrer");
    c.header("Cache-Control", "no-store");
  });
  for (const path of ["/sign-in", "/sign-up", "/consent", "/sign-out", "/signed-out", "/error"])
    app.use(path, pageHeaders);

  /** The signed authorization request the provider put on the page's URL, if any. */
  const oauthQueryOf = (c: Context) => {
    const search = new URL(c.req.url).search.slice(1);
    return new URLSearchParams(search).has("sig") ? search : "";
  };

  /**
   * Calls a better-auth endpoint exactly as the browser's own fetch would:
   * a JSON POST to the handler carrying the browser's cookies and client IP,
   * so session cookies, rate limits and the OAuth continuation hooks apply.
   */
  const callAuth = (c: Context, path: string, body: Record<string, unknown>) => {
    const headers = new Headers({ "content-type": "application/json", accept: "application/json", origin });
    for (const name of ["cookie", "user-agent", CLIENT_IP_HEADER]) {
      const value = c.req.header(name);
      if (value) headers.set(name, value);
    }
    return auth.handler(
      new Request(`${config.baseUrl}/api/auth${path}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      }),
    );
  };

  app.get("/sign-in", async (c) => {
    const oauthQuery = oauthQueryOf(c);
    return page(
      c,
      <SignInPage
        csrf={csrf(c)}
        oauthQuery={oauthQuery}
        next={safeNext(c.req.query("next"))}
        app={await appOf(oauthQuery, c.req.raw.headers)}
      />,
    );
  });
  app.post("/sign-in", async (c) => {
    const form = await c.req.parseBody();
    const oauthQuery = str(form.oauth_query);
    // The form posts to `/sign-in?next=…` (its action keeps the query); a hand-made post may put it in the body.
    const next = safeNext(str(form.next) || c.req.query("next"));
    const email = str(form.email).trim();
    const app = await appOf(oauthQuery, c.req.raw.headers);
    const rerender = (status: 400 | 401 | 403 | 429, error: string) =>
      page(
        c,
        <SignInPage
          csrf={csrf(c)}
          oauthQuery={oauthQuery}
          next={next}
          email={email}
          error={error}
          app={app}
        />,
        status,
      );
    if (!verifyCsrf(c, form.csrf, origin)) return rerender(403, "Your form expired. Please try again.");
    const response = await callAuth(c, "/sign-in/email", {
      email,
      password: str(form.password),
      ...(oauthQuery ? { oauth_query: oauthQuery } : {}),
    });
    if (response.status === 429) return tooMany(c, response, rerender);
    // One message for unknown email and wrong password, so the form does not reveal which accounts exist.
    if (!response.ok) return rerender(401, "Invalid email or password.");
    return continueAfter(response, next);
  });

  app.get("/sign-up", async (c) => {
    const oauthQuery = oauthQueryOf(c);
    return page(
      c,
      <SignUpPage
        csrf={csrf(c)}
        oauthQuery={oauthQuery}
        next={safeNext(c.req.query("next"))}
        app={await appOf(oauthQuery, c.req.raw.headers)}
      />,
    );
  });
  app.post("/sign-up", async (c) => {
    const form = await c.req.parseBody();
    const oauthQuery = str(form.oauth_query);
    const fields = { name: str(form.name).trim(), email: str(form.email).trim() };
    const next = safeNext(str(form.next) || c.req.query("next"));
    const app = await appOf(oauthQuery, c.req.raw.headers);
    const rerender = (status: 400 | 403 | 429, error: string) =>
      page(
        c,
        <SignUpPage csrf={csrf(c)} oauthQuery={oauthQuery} next={next} {...fields} error={error} app={app} />,
        status,
      );
    if (!verifyCsrf(c, form.csrf, origin)) return rerender(403, "Your form expired. Please try again.");
    const response = await callAuth(c, "/sign-up/email", {
      ...fields,
      password: str(form.password),
      ...(oauthQuery ? { oauth_query: oauthQuery } : {}),
    });
    if (response.status === 429) return tooMany(c, response, rerender);
    if (!response.ok) return rerender(400, await signUpError(response));
    return continueAfter(response, next);
  });

  app.get("/consent", async (c) => {
    const session = await auth.api.getSession({ headers: c.req.raw.headers });
    const query = oauthQueryOf(c);
    if (!session) return c.redirect(`/sign-in?${query}`, 302);
    const params = new URLSearchParams(query);
    const app = await requestingApp(db, auth, params.get("client_id"), c.req.raw.headers);
    if (!app)
      return page(
        c,
        <ErrorPage title="Unknown application" message="This application is not registered." />,
        400,
      );
    const scopes = (params.get("scope") ?? "").split(" ").filter(Boolean);
    return page(c, <ConsentPage csrf={csrf(c)} oauthQuery={query} app={app} scopes={scopes} />);
  });
  app.post("/consent", async (c) => {
    const form = await c.req.parseBody();
    if (!verifyCsrf(c, form.csrf, origin)) {
      return page(c, <ErrorPage title="Form expired" message="Please start signing in again." />, 403);
    }
    const response = await callAuth(c, "/oauth2/consent", {
      accept: form.accept === "true",
      oauth_query: str(form.oauth_query),
    });
    if (!response.ok) {
      return page(c, <ErrorPage title="Consent failed" message="This request is no longer valid." />, 400);
    }
    return continueAfter(response);
  });

  app.post("/sign-out", async (c) => {
    const form = await c.req.parseBody();
    if (!verifyCsrf(c, form.csrf, origin)) {
      return page(c, <ErrorPage title="Form expired" message="Please try again." />, 403);
    }
    const response = await callAuth(c, "/sign-out", {});
    return redirect303("/signed-out", response.headers);
  });

  app.get("/signed-out", (c) => page(c, <SignedOutPage />));

  app.get("/error", (c) => {
    const code = c.req.query("error") ?? "unknown_error";
    const description = c.req.query("error_description");
    return page(
      c,
      <ErrorPage
        title="Sign-in could not continue"
        message={description ? `${description} (${code})` : `The request was rejected (${code}).`}
      />,
      400,
    );
  });

  return app;
}

const str = (v: unknown) => (typeof v === "string" ? v : "");

/** better-auth refused the attempt (rate-limit/rules.ts): the form again, with its Retry-After. */
function tooMany(c: Context, response: Response, rerender: (status: 429, error: string) => Response) {
  c.header("retry-after", response.headers.get("x-retry-after") ?? "60");
  return rerender(429, "Too many attempts. Wait a minute and try again.");
}

/** A successful form post answers 303 (RFC 9110 §15.4.4) to wherever better-auth wants the browser next. */
async function continueAfter(response: Response, fallback = "/"): Promise<Response> {
  let target = response.headers.get("location");
  if (!target) {
    const body = await readJson<{ url?: string; redirect_uri?: string }>(response);
    target = body?.url ?? body?.redirect_uri ?? null;
  }
  return redirect303(target ?? fallback, response.headers);
}

function redirect303(location: string, from: Headers): Response {
  const headers = new Headers({ location });
  for (const cookie of from.getSetCookie()) headers.append("set-cookie", cookie);
  return new Response(null, { status: 303, headers });
}

async function signUpError(response: Response): Promise<string> {
  const body = (await readJson<{ code?: string; message?: string }>(response)) ?? {};
  if (body.code === "USER_ALREADY_EXISTS" || body.code === "USER_ALREADY_EXISTS_USE_ANOTHER_EMAIL") {
    return "An account with this email already exists. Sign in instead.";
  }
  if (body.code === "PASSWORD_TOO_SHORT") return "The password must be at least 8 characters.";
  if (body.code === "PASSWORD_TOO_LONG") return "The password must be at most 128 characters.";
  if (body.code === "INVALID_EMAIL") return "Enter a valid email address.";
  return body.message ?? "The account could not be created.";
}
