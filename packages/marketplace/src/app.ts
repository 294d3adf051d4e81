import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { requestId } from "hono/request-id";
import type { Logger } from "pino";
import { adminRoutes } from "./admin/routes.ts";
import type { AppEnv } from "./app-env.ts";
import { auditScope } from "./audit/context.ts";
import { auditRoutes } from "./audit/routes.ts";
import { grantReplayEvents, revocationAudit, signInLimitAudit } from "./audit/security-events.ts";
import { userAuditHooks } from "./audit/user-hooks.ts";
import { type Auth, createAuth } from "./auth/auth.ts";
import { BearerCache } from "./auth/bearer.ts";
import { GrantGate } from "./auth/grant-gate.ts";
import { securityContext } from "./auth/middleware.ts";
import { authRoutes, rootMetadataRoute } from "./auth/routes.ts";
import { catalogRoutes } from "./catalog/routes.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { EventDelivery } from "./events/delivery.ts";
import { eventRoutes } from "./events/routes.ts";
import { accessLog } from "./http/access-log.ts";
import { bodyLimit } from "./http/body-limit.ts";
import { clientAddressMiddleware } from "./http/client-address.ts";
import { ok } from "./http/envelope.ts";
import { errorResponse, onError } from "./http/on-error.ts";
import { type ApiRouter, apiRouter } from "./http/route.ts";
import { meRoutes } from "./me/routes.ts";
import { endpointPaths, httpMetrics, routeTemplate } from "./metrics/http.ts";
import { MarketplaceMetrics } from "./metrics/registry.ts";
import { metricsRoute } from "./metrics/route.ts";
import { timedSql } from "./metrics/timed-sql.ts";
import { tokenEndpointMetrics } from "./metrics/token-endpoint.ts";
import { usageOutcomeMetrics, usageWritePath } from "./metrics/usage-outcomes.ts";
import { openApiRoutes } from "./openapi/routes.tsx";
import { billingPageRoutes } from "./pages/billing-routes.tsx";
import { pageRoutes } from "./pages/routes.tsx";
import {
  type Payments,
  StripePayments,
  StripeWebhookVerifier,
  type WebhookVerifier,
} from "./payments/payments.ts";
import { authRateLimits } from "./rate-limit/auth-middleware.ts";
import { openRateLimitStore, type RateLimitStore } from "./rate-limit/store.ts";
import { stripeWebhookRoutes } from "./stripe/routes.ts";
import { StripeWebhooks } from "./stripe/webhooks.ts";
import { subscriptionClaims } from "./subscriptions/claims.ts";
import { DevCheckout } from "./subscriptions/dev-checkout.ts";
import { adminSubscriptionRoutes, mySubscriptionRoutes } from "./subscriptions/routes.ts";
import { httpTracing } from "./tracing/http.ts";
import { tracedSql } from "./tracing/traced-sql.ts";
import { usageRoutes } from "./usage/routes.ts";
import { UsageService } from "./usage/service.ts";
import { recordSignup } from "./users/service.ts";
import { webAppRoutes } from "./web/routes.ts";

export type { AppEnv };

export interface Marketplace {
  app: Hono<AppEnv>;
  /** The declared JSON API routes (also mounted on `app`); its registry is the OpenAPI document. */
  api: ApiRouter;
  auth: Auth;
  bearer: BearerCache;
  webhooks: StripeWebhooks;
  rateLimits: RateLimitStore;
  metrics: MarketplaceMetrics;
  /** Agent webhooks: the outbox relay and delivery worker; `startMarketplace` starts it. */
  events: EventDelivery;
}

/** Builds the marketplace app. Reads like a table of contents: one line per feature. */
export function createMarketplace(deps: {
  config: Config;
  database: Database;
  logger: Logger;
  /** Injected in tests; by default built from the Stripe settings. */
  payments?: Payments | null;
  webhookVerifier?: WebhookVerifier | null;
}): Marketplace {
  const { config, database, logger } = deps;
  const { db } = database;
  const claims = subscriptionClaims(db);
  const rateLimits = openRateLimitStore(config, database.sql, logger);
  const auth = createAuth({
    config,
    dialect: database.authDialect,
    sql: database.sql,
    locks: database.locks,
    claims,
    logger,
    onUserCreated: (user) => recordSignup(db, user),
    onUserUpdate: userAuditHooks(db),
    rateLimitStore: rateLimits,
  });
  const bearer = new BearerCache(db, config.bearerCacheTtlMs);
  const payments =
    deps.payments !== undefined
      ? deps.payments
      : config.stripe.secretKey
        ? new StripePayments(config.stripe.secretKey)
        : null;
  const verifier =
    deps.webhookVerifier !== undefined
      ? deps.webhookVerifier
      : config.stripe.webhookSecret
        ? new StripeWebhookVerifier(config.stripe.webhookSecret)
        : null;
  const devCheckout =
    config.devCheckout && !payments ? new DevCheckout(config.baseUrl, config.authSecret) : null;
  if (devCheckout)
    logger.warn("DEV_CHECKOUT=on: paid tiers activate through the development checkout; NO PAYMENT IS TAKEN");
  const checkoutDeps = {
    payments,
    devCheckout,
    production: config.deployed,
    baseUrl: config.baseUrl,
    uiOrigin: config.uiOrigin,
  };
  const metrics = new MarketplaceMetrics(() => database.poolStats());
  const usage = new UsageService(tracedSql(timedSql(database.sql, metrics)), db, config.baseUrl, {
    // PGlite has one backend: one batch at a time. PostgreSQL: two (one committing while the next runs);
    // more slots only make smaller batches and more commits (bench: 5 slots was ~40 % slower than 1–2).
    maxInFlight:
      config.usageBatch.maxInFlight ??
      (database.kind === "pglite" ? 1 : Math.max(1, Math.min(2, Math.floor(config.databasePoolSize / 4)))),
    // PGlite has no commit round trip to share, and one batch statement measured slower there than the
    // calls one by one (bench/results: ~130 vs ~330 req/s at c=16): no batching on PGlite.
    maxBatch: config.usageBatch.maxBatch ?? (database.kind === "pglite" ? 1 : 256),
    onRun: (operation, size, failed) => {
      metrics.usageBatchSize.observe({ operation }, size);
      if (failed) metrics.usageBatchFailures.inc({ operation });
    },
  });
  metrics.observeUsageQueue(() => usage.queued);
  const webhooks = new StripeWebhooks(db, verifier, logger, metrics);
  const events = new EventDelivery({
    database,
    databaseUrl: "url" in config.database ? config.database.url : undefined,
    logger,
    retryDelaySeconds: config.webhooks.retryDelaySeconds,
  });
  const app = new Hono<AppEnv>();

  app.use(requestId({ headerName: "x-request-id", limitLength: 128, generator: () => randomUUID() }));
  // Before the access log, so its line carries the request's trace id.
  // Metrics labels and span names: one route-template lookup, better-auth's endpoints included.
  const routeOf = routeTemplate(endpointPaths(auth.api, "/api/auth"));
  app.use(httpTracing(routeOf));
  app.use(accessLog(logger));
  app.use(clientAddressMiddleware(config.trustProxy));
  app.use(httpMetrics(metrics, routeOf));
  app.use(auditScope());
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: (c) => errorResponse(c, 413, "BAD_REQUEST", "The request body is too large."),
    }),
  );

  // The web app on another origin (MARKETPLACE_UI_ORIGIN) calls the API with its cookies: CORS with
  // credentials for exactly that origin, and nothing for any other.
  if (config.crossOriginCookies && config.uiOrigin) {
    app.use(
      "*",
      cors({
        origin: config.uiOrigin,
        credentials: true,
        allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
        allowHeaders: ["content-type", "accept"],
        exposeHeaders: ["x-request-id", "retry-after"],
        maxAge: 600,
      }),
    );
  }

  app.route("/", metricsRoute(metrics.registry, config.metrics));
  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    await database.sql.query("SELECT 1");
    return ok(c, { database: "up" });
  });

  app.post("/api/auth/oauth2/token", tokenEndpointMetrics(metrics));
  app.post("/api/auth/oauth2/revoke", revocationAudit(db));
  app.post("/api/auth/sign-in/email", signInLimitAudit(db));
  app.use("/api/auth/*", authRateLimits({ store: rateLimits, sql: database.sql, enabled: config.rateLimit }));
  app.route(
    "/api/auth",
    authRoutes({
      auth,
      bearerCache: bearer,
      grantGate: new GrantGate(database.sql, database.locks, grantReplayEvents(db, metrics)),
      db,
      claims,
      issuer: config.issuer,
    }),
  );
  // RFC 8414 §3: metadata for issuer `<base>/api/auth` also lives at the well-known root.
  app.get("/.well-known/oauth-authorization-server/api/auth", rootMetadataRoute(auth));
  app.route("/webhooks", stripeWebhookRoutes(webhooks));

  // The JSON API: every route declares who may call it (auth/access.ts) and is documented from that declaration.
  app.use(securityContext({ auth, bearer, db }, config));
  for (const operation of ["consume", "release"] as const)
    app.post(usageWritePath(operation), usageOutcomeMetrics(metrics, operation));
  const api = apiRouter();
  api.route("/", meRoutes(db));
  api.route("/", mySubscriptionRoutes(db, checkoutDeps));
  api.route("/", usageRoutes(usage));
  api.route("/", catalogRoutes({ db, payments, checkout: checkoutDeps, devCheckout: config.devCheckout }));
  api.route("/", adminSubscriptionRoutes(db));
  api.route("/", adminRoutes({ db, auth, usage, webhooks, locks: database.locks }));
  api.route("/", auditRoutes(db));
  api.route("/", eventRoutes({ db, deployed: config.deployed }));
  app.route("/", api);

  app.route("/", openApiRoutes(api, config.baseUrl));
  app.route("/", billingPageRoutes({ auth, config, db, devCheckout }));
  app.route("/", pageRoutes(auth, config, db));
  const web = webAppRoutes({ distDir: config.webDir });
  app.route("/", web.app);

  // A browser gets the app's not-found page; an API client the JSON envelope.
  app.notFound(
    (c) =>
      web.notFound(c) ?? errorResponse(c, 404, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`),
  );
  app.onError(onError(logger));
  return { app, api, auth, bearer, webhooks, rateLimits, metrics, events };
}
