import { DEFAULT_ROLE, type Role, RoleSchema } from "@amp/contract";
import { eq } from "drizzle-orm";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import type { Config } from "../config.ts";
import type { Db } from "../db/database.ts";
import { user } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import type { Auth } from "./auth.ts";
import { type BearerCache, hashToken } from "./bearer.ts";

/** The authenticated caller of a marketplace API route. */
export interface Principal {
  userId: string;
  role: Role;
  via: "cookie" | "bearer";
  /** Set for bearer callers: the OAuth client and granted scopes. */
  clientId?: string;
  scopes?: string[];
  /** Set for opaque bearer tokens: charging re-checks the token in its own transaction. */
  tokenHash?: string;
}

export type AuthVariables = { principal: Principal | null };

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * Identifies the caller on every API route: the marketplace's own cookie
 * session first, then `Authorization: Bearer` (an opaque access token, or a
 * JWT from our `/token` endpoint verified against our JWKS). It never
 * rejects; the guards below decide what a route requires.
 */
export function identify(deps: { auth: Auth; bearer: BearerCache; db: Db }): MiddlewareHandler<AppEnv> {
  return createMiddleware(async (c, next) => {
    c.set("principal", await resolvePrincipal(c.req.raw.headers, deps));
    await next();
  });
}

async function resolvePrincipal(
  headers: Headers,
  { auth, bearer, db }: { auth: Auth; bearer: BearerCache; db: Db },
): Promise<Principal | null> {
  if (headers.get("cookie")) {
    const session = await auth.api.getSession({ headers });
    if (session) return { userId: session.user.id, role: toRole(session.user.role), via: "cookie" };
  }
  const header = headers.get("authorization");
  const match = header ? /^Bearer\s+(\S+)$/i.exec(header) : null;
  if (!match?.[1]) return null;
  const token = match[1];
  if (JWT_SHAPE.test(token)) {
    const payload = (await auth.api.verifyJWT({ body: { token } })).payload;
    if (!payload?.sub) return null;
    return { userId: payload.sub, role: await roleOf(db, payload.sub), via: "bearer" };
  }
  const grant = await bearer.resolve(token);
  if (!grant) return null;
  return {
    userId: grant.userId,
    role: toRole(grant.role),
    via: "bearer",
    clientId: grant.clientId,
    scopes: grant.scopes,
    tokenHash: hashToken(token),
  };
}

async function roleOf(db: Db, userId: string): Promise<Role> {
  const rows = await db.select({ role: user.role }).from(user).where(eq(user.id, userId)).limit(1);
  return toRole(rows[0]?.role);
}

const toRole = (value: unknown): Role => {
  const parsed = RoleSchema.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_ROLE;
};

/** 401 envelope details that let a caller send its user to sign in or up. */
export const signInDetails = (config: Config) => ({
  signInUrl: `${config.baseUrl}/sign-in`,
  signUpUrl: `${config.baseUrl}/sign-up`,
});

/** Guard: any signed-in caller. */
export function requireUser(config: Config): MiddlewareHandler<AppEnv> {
  return createMiddleware(async (c, next) => {
    if (!c.get("principal")) throw new ApiError("UNAUTHORIZED", undefined, signInDetails(config));
    await next();
  });
}

/** Guard: a signed-in `platform_admin`. */
export function requirePlatformAdmin(config: Config): MiddlewareHandler<AppEnv> {
  return createMiddleware(async (c, next) => {
    const principal = c.get("principal");
    if (!principal) throw new ApiError("UNAUTHORIZED", undefined, signInDetails(config));
    if (principal.role !== "platform_admin")
      throw new ApiError("FORBIDDEN", "This action requires the platform_admin role.");
    await next();
  });
}
