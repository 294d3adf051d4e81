import { ALL_SCOPES, DEFAULT_ROLE } from "@amp/contract";
import type { KeyedLocks } from "@amp/db";
import { oauthProvider } from "@better-auth/oauth-provider";
import { type BetterAuthOptions, betterAuth } from "better-auth";
import { admin, jwt } from "better-auth/plugins";
import type { Dialect } from "kysely";
import type { Logger } from "pino";
import type { Config } from "../config.ts";
import type { SqlClient } from "../db/database.ts";
import { AUTH_RULES } from "../rate-limit/rules.ts";
import type { RateLimitStore } from "../rate-limit/store.ts";
import { type ClaimSource, idTokenClaims, userInfoClaims } from "./claims.ts";
import { ac, roles } from "./permissions.ts";
import { signingKeyStore } from "./signing-keys.ts";

/** Cookie prefix of the marketplace; the agent uses its own, since browsers share cookies across ports on localhost. */
export const COOKIE_PREFIX = "marketplace";

/** The JWT audience of bearer JWTs for the marketplace's own API (never a client id, so ID tokens don't pass). */
export const apiAudience = (config: Config) => `${config.baseUrl}/api`;

export interface AuthDeps {
  config: Config;
  dialect: Dialect;
  /** For the signing-key store: one key creation across instances. */
  sql: SqlClient;
  locks: KeyedLocks;
  claims: ClaimSource;
  logger: Logger;
  onUserCreated(user: { id: string; email: string }): Promise<void>;
  /** Shared rate-limit counters; without one (operator CLI) better-auth counts in memory. */
  rateLimitStore?: RateLimitStore;
  /** Hooks on user updates (the audit of role and ban changes, audit/user-hooks.ts). */
  onUserUpdate?: NonNullable<NonNullable<BetterAuthOptions["databaseHooks"]>["user"]>["update"];
}

/** Header carrying the client address to better-auth; http/client-address.ts replaces any client-sent copy. */
export const CLIENT_IP_HEADER = "x-marketplace-client-ip";

export function createAuth({
  config,
  dialect,
  sql,
  locks,
  claims,
  logger,
  onUserCreated,
  onUserUpdate,
  rateLimitStore,
}: AuthDeps) {
  const sameSite = config.crossOriginCookies ? "none" : "lax";
  return betterAuth({
    appName: "Agent Marketplace",
    baseURL: config.baseUrl,
    basePath: "/api/auth",
    secret: config.authSecret,
    database: { dialect, type: "postgres" },
    telemetry: { enabled: false },
    logger: {
      level: "warn",
      log: (level, message) => logger[level]({ component: "better-auth" }, message),
    },
    trustedOrigins: [config.baseUrl, ...(config.uiOrigin ? [config.uiOrigin] : [])],
    emailAndPassword: { enabled: true, minPasswordLength: 8, maxPasswordLength: 128, autoSignIn: true },
    session: { expiresIn: 7 * 86_400, updateAge: 86_400 },
    // Our rule table over our shared, atomic store (rate-limit/), keyed per real client address.
    rateLimit: {
      enabled: config.rateLimit,
      ...AUTH_RULES.default,
      customRules: AUTH_RULES.customRules,
      ...(rateLimitStore ? { customStorage: rateLimitStore } : {}),
    },
    advanced: {
      cookiePrefix: COOKIE_PREFIX,
      useSecureCookies: config.crossOriginCookies || config.baseUrl.startsWith("https://"),
      defaultCookieAttributes: {
        sameSite,
        httpOnly: true,
        ...(config.crossOriginCookies ? { secure: true } : {}),
      },
      ipAddress: { ipAddressHeaders: [CLIENT_IP_HEADER] },
    },
    databaseHooks: {
      user: { create: { after: async (user) => onUserCreated(user) }, update: onUserUpdate },
    },
    plugins: [
      admin({ ac, roles, defaultRole: DEFAULT_ROLE, adminRoles: ["platform_admin"] }),
      jwt({
        jwks: {
          keyPairConfig: { alg: "EdDSA", crv: "Ed25519" },
          rotationInterval: config.jwks.rotationInterval,
          gracePeriod: config.jwks.gracePeriod,
        },
        adapter: signingKeyStore(sql, locks),
        jwt: { issuer: config.issuer, audience: apiAudience(config), expirationTime: "15m" },
      }),
      oauthProvider({
        loginPage: "/sign-in",
        consentPage: "/consent",
        signup: { page: "/sign-up" },
        scopes: [...ALL_SCOPES],
        grantTypes: ["authorization_code", "refresh_token"],
        accessTokenExpiresIn: config.tokens.accessTtl,
        idTokenExpiresIn: config.tokens.idTtl,
        refreshTokenExpiresIn: config.tokens.refreshTtl,
        refreshTokenReuseInterval: config.tokens.refreshReuseGrace,
        codeExpiresIn: config.tokens.codeTtl,
        allowDynamicClientRegistration: false,
        clientPrivileges: ({ user }) => user?.role === "platform_admin",
        customIdTokenClaims: ({ user, scopes }) => idTokenClaims(user as never, scopes, claims),
        customUserInfoClaims: ({ user, scopes }) => userInfoClaims(user as never, scopes, claims),
        // Its per-address rules would limit an agent's backend as one client; rate-limit/rules.ts decides instead.
        rateLimit: {
          token: false,
          authorize: false,
          introspect: false,
          revoke: false,
          register: false,
          userinfo: false,
        },
      }),
    ],
  });
}

export type Auth = ReturnType<typeof createAuth>;
