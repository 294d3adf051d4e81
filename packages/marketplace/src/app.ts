import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { requestId } from "hono/request-id";
import type { Logger } from "pino";
import { adminRoutes } from "./admin/routes.ts";
import { type Auth, createAuth } from "./auth/auth.ts";
import { BearerCache } from "./auth/bearer.ts";
import { type ClaimSource, emptyClaimSource } from "./auth/claims.ts";
import { type AuthVariables, identify, requirePlatformAdmin, requireUser } from "./auth/middleware.ts";
import { RefreshGate } from "./auth/refresh-gate.ts";
import { authRoutes, rootMetadataRoute } from "./auth/routes.ts";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { accessLog } from "./http/access-log.ts";
import { ok } from "./http/envelope.ts";
import { errorResponse, onError } from "./http/on-error.ts";
import { meRoutes } from "./me/routes.ts";
import { pageRoutes } from "./pages/routes.tsx";
import { recordSignup } from "./users/service.ts";

export type AppEnv = { Variables: AuthVariables & { requestId: string } };

export interface Marketplace {
  app: Hono<AppEnv>;
  auth: Auth;
  bearer: BearerCache;
}

/** Builds the marketplace app. Reads like a table of contents: one line per feature. */
export function createMarketplace(deps: {
  config: Config;
  database: Database;
  logger: Logger;
  claims?: ClaimSource;
}): Marketplace {
  const { config, database, logger } = deps;
  const { db } = database;
  const claims = deps.claims ?? emptyClaimSource;
  const auth = createAuth({
    config,
    dialect: database.authDialect,
    claims,
    logger,
    onUserCreated: (user) => recordSignup(db, user),
  });
  const bearer = new BearerCache(db, config.bearerCacheTtlMs);
  const app = new Hono<AppEnv>();

  app.use(requestId({ headerName: "x-request-id", limitLength: 128, generator: () => randomUUID() }));
  app.use(accessLog(logger));
  app.use(
    bodyLimit({
      maxSize: config.bodyLimitBytes,
      onError: (c) => errorResponse(c, 413, "BAD_REQUEST", "The request body is too large."),
    }),
  );

  app.get("/health", (c) => c.json({ status: "ok" }));
  app.get("/ready", async (c) => {
    await database.sql.query("SELECT 1");
    return ok(c, { database: "up" });
  });

  app.route(
    "/api/auth",
    authRoutes({
      auth,
      bearerCache: bearer,
      refreshGate: new RefreshGate(database.sql, config.tokens.refreshReuseGrace),
      db,
      claims,
      issuer: config.issuer,
    }),
  );
  // RFC 8414 §3: metadata for issuer `<base>/api/auth` also lives at the well-known root.
  app.get("/.well-known/oauth-authorization-server/api/auth", rootMetadataRoute(auth));

  const api = identify({ auth, bearer, db });
  app.use("/me", api, requireUser(config));
  app.use("/me/*", api, requireUser(config));
  app.route("/me", meRoutes(db));
  app.use("/admin/*", api, requirePlatformAdmin(config));
  app.route("/admin", adminRoutes(db));

  app.route("/", pageRoutes(auth, config));

  app.notFound((c) => errorResponse(c, 404, "NOT_FOUND", `No route for ${c.req.method} ${c.req.path}.`));
  app.onError(onError(logger));
  return { app, auth, bearer };
}
