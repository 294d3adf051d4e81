import { Readable } from "node:stream";
import type {
  Request as ExpressRequest,
  Response as ExpressResponse,
  NextFunction,
  RequestHandler,
} from "express";
import { Router } from "express";
import { SignInRequiredError } from "./errors.ts";
import { type AgentKit, type AgentUser, AUTH_ROUTES, type KitReply } from "./kit.ts";
import { webhookRouter } from "./webhooks/express.ts";
import type { WebhookOptions } from "./webhooks/receiver.ts";

declare global {
  namespace Express {
    interface Locals {
      /** Set by `requireUser()`. */
      user?: AgentUser;
      /** Set by `chargeable()`: the consume outcome. */
      charge?: import("@amp/contract").UsageResultDto;
    }
  }
}

/** An Express request as a Fetch Request (the body streams through untouched). */
export function toFetchRequest(req: ExpressRequest, baseURL: string): Request {
  const headers = toHeaders(req);
  const hasBody = !["GET", "HEAD"].includes(req.method);
  return new Request(new URL(req.originalUrl, baseURL), {
    method: req.method,
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: "half" } : {}),
  } as RequestInit);
}

/** Writes a Fetch Response out through Express. */
export async function sendFetchResponse(res: ExpressResponse, response: Response) {
  res.status(response.status);
  for (const [name, value] of response.headers) if (name !== "set-cookie") res.setHeader(name, value);
  const cookies = response.headers.getSetCookie();
  if (cookies.length) res.setHeader("set-cookie", cookies);
  res.end(Buffer.from(await response.arrayBuffer()));
}

const send = (res: ExpressResponse, reply: KitReply) => res.status(reply.status).json(reply.body);
const wantsHtml = (req: ExpressRequest) =>
  !req.path.startsWith("/api/") && (req.headers.accept ?? "").includes("text/html");

/**
 * The Express adapter. `router()` serves the auth routes, `GET /me`,
 * `GET /api/me/tier` and `GET /api/me/usage`; `requireUser()` and
 * `chargeable()` guard your own routes.
 *
 * @example
 * const kit = await createAgentKit({ ... });
 * const mp = expressAdapter(kit);
 * app.use(mp.router());
 * app.post("/api/chat", mp.requireUser(), mp.chargeable("messages"), (req, res) => { ... });
 */
export function expressAdapter(kit: AgentKit) {
  const baseURL = kit.options.baseURL;

  /**
   * CORS (cross-origin mode: the exact frontend origin, with credentials) and, for every route after it, the
   * origin check of cookie-carrying state changes (F.6). `router()` installs it first; an app that registers
   * state-changing routes before `router()` should `app.use(mp.crossOrigin)` ahead of them.
   */
  const crossOrigin: RequestHandler = (req, res, next) => {
    const origin = req.headers.origin ?? null;
    for (const [name, value] of Object.entries(kit.corsHeaders(origin))) res.setHeader(name, value);
    if (req.method === "OPTIONS") return void res.status(204).end();
    const refused = kit.checkOrigin(req.method, toHeaders(req));
    if (refused) return void send(res, refused);
    next();
  };

  /** 401 JSON with a sign-in URL for API calls; a redirect to sign-in for page loads. */
  const requireUser = (): RequestHandler => async (req, res, next) => {
    try {
      const user = await kit.getUser(toHeaders(req));
      if (!user) {
        if (wantsHtml(req)) return void res.redirect(302, kit.signInUrl(req.originalUrl));
        return void send(res, kit.replyFor(new SignInRequiredError(), req.originalUrl));
      }
      res.locals.user = user;
      next();
    } catch (error) {
      next(error);
    }
  };

  /** Consumes `delta` units of `slug` before the handler runs; the handler runs only if it was charged. */
  const chargeable =
    (slug: string, delta = 1): RequestHandler =>
    async (req, res, next) => {
      const user = res.locals.user;
      if (!user) return void next(new Error("chargeable() must come after requireUser()"));
      try {
        res.locals.charge = await kit.client(user.id).consume(slug, delta);
        next();
      } catch (error) {
        try {
          send(res, kit.replyFor(error, req.originalUrl));
        } catch (unexpected) {
          next(unexpected);
        }
      }
    };

  /** Wraps an async handler so marketplace errors become agent responses. */
  const marketplaceRoute =
    (
      handler: (req: ExpressRequest, res: ExpressResponse, user: AgentUser) => Promise<unknown>,
    ): RequestHandler =>
    async (req, res, next: NextFunction) => {
      try {
        await handler(req, res, res.locals.user!);
      } catch (error) {
        try {
          send(res, kit.replyFor(error, req.originalUrl));
        } catch (unexpected) {
          next(unexpected);
        }
      }
    };

  function router() {
    const r = Router();
    r.use(crossOrigin);
    const forward: RequestHandler = async (req, res, next) => {
      try {
        const clientIp = req.ip ?? req.socket.remoteAddress;
        const response = await kit.handle(toFetchRequest(req, baseURL), clientIp ? { clientIp } : {});
        if (!response) return void next();
        await sendFetchResponse(res, response);
      } catch (error) {
        next(error);
      }
    };
    // F.5: each auth route by name (so route listings show them); the rest of /api/auth/ is kit.handle's 404.
    for (const route of AUTH_ROUTES) {
      if (route.method === "GET") r.get(route.path, forward);
      else r.post(route.path, forward);
    }
    r.all(/^\/api\/auth\//, forward);
    r.get("/me", requireUser(), (_req, res) => void res.json(kit.me(res.locals.user!)));
    r.get(
      "/api/me/tier",
      requireUser(),
      marketplaceRoute(async (req, res, user) => {
        const tier = await kit.client(user.id).getTier({ refresh: req.query.refresh === "true" });
        res.json({ tierName: tier.tier.tierName, status: tier.status, subscription: tier });
      }),
    );
    r.get(
      "/api/me/usage",
      requireUser(),
      marketplaceRoute(
        async (_req, res, user) => void res.json({ metrics: await kit.client(user.id).getUsage() }),
      ),
    );
    return r;
  }

  /**
   * The marketplace's pushed events (docs/agent-events.md): `POST /api/marketplace/webhooks` (or `path`)
   * and the browser's `GET /api/me/events`. Mount before body parsers.
   */
  const webhooks = (options: WebhookOptions & { path?: string }) =>
    webhookRouter(kit, options, {
      requireUser,
      toFetch: (req) => toFetchRequest(req, baseURL),
      sendFetch: sendFetchResponse,
    });

  return { router, requireUser, chargeable, marketplaceRoute, crossOrigin, webhooks };
}

/** Each request's headers as a Fetch `Headers`, built once (the origin check and requireUser() both read them). */
const fetchHeaders = new WeakMap<ExpressRequest, Headers>();

function toHeaders(req: ExpressRequest): Headers {
  const known = fetchHeaders.get(req);
  if (known) return known;
  const headers = new Headers();
  fetchHeaders.set(req, headers);
  for (const [name, value] of Object.entries(req.headers)) {
    for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value])
      headers.append(name, v);
  }
  return headers;
}
