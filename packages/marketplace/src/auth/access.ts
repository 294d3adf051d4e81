import { originAllowed, SCOPES } from "@amp/contract";
import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../http/api-error.ts";
import { isAdmin, type Principal } from "./principal.ts";

/**
 * Who may call a marketplace API route. Every route declares one of these
 * (see `http/route.ts`); the same declaration guards the route and documents
 * it in `/openapi.json`, so a route cannot be routed without a rule.
 *
 * Credential kinds:
 * - **user**: the user's own marketplace credential — the cookie session of
 *   the web app, or a JWT from `/api/auth/token`;
 * - **agent**: an OAuth access token issued to an agent's client; it acts
 *   only for that agent (the `{agentId}` path parameter) and never carries
 *   platform-admin power;
 * - **admin**: a platform admin's user credential, or an access token of a
 *   non-agent client granted the `marketplace:admin` scope (automation).
 */
export const ACCESS = {
  /** Anyone; a credential, when sent, only widens what is visible (admins see drafts). */
  public: { accepts: [], summary: "public" },
  /** The user's own session (cookie or user JWT). Agent tokens are refused. */
  user: { accepts: ["user"], summary: "user session" },
  /** The user's session, or a token of the agent named by `{agentId}`. */
  userOrOwnAgent: {
    accepts: ["user", "agent"],
    agentParam: "agentId",
    summary: "user session or that agent's token",
  },
  /** Only a token of the agent named by `{agentId}`: usage writes are the agent's act. */
  ownAgent: { accepts: ["agent"], agentParam: "agentId", summary: "that agent's token" },
  /** The user's session or any agent's token (what the token may read is filtered by its scopes). */
  userOrAnyAgent: { accepts: ["user", "agent"], summary: "user session or any agent token (by scope)" },
  /** A platform admin: the admin's session, or an admin client's token with `marketplace:admin`. */
  admin: { accepts: ["admin"], summary: "platform admin" },
} as const satisfies Record<string, Access>;

export interface Access {
  accepts: readonly ("user" | "agent" | "admin")[];
  /** Agent tokens must have been issued to the agent this path parameter names. */
  agentParam?: string;
  summary: string;
}
export type AccessName = keyof typeof ACCESS;

/**
 * The guard every declared route runs first: identifies the caller (cookie,
 * then bearer), then enforces the route's declared access. Cookie-carried
 * state changes must come from a trusted origin (the cookie rides along on
 * any same-site request, and on cross-site ones when SameSite=None).
 */
export function guard(name: AccessName): MiddlewareHandler<AppEnv> {
  const access: Access = ACCESS[name];
  return createMiddleware<AppEnv>(async (c, next) => {
    const security = c.get("security");
    const principal = await security.identify(c.req.raw.headers);
    c.set("principal", principal);
    if (access.accepts.length > 0) {
      if (!principal) throw new ApiError("UNAUTHORIZED", undefined, security.signInDetails);
      authorize(access, principal, (param) => c.req.param(param));
    }
    // The agent's rule too (@amp/contract originAllowed): cookie-carried changes need a trusted origin.
    if (
      principal?.via === "cookie" &&
      !originAllowed(security.trustedOrigins, c.req.method, c.req.raw.headers)
    ) {
      throw new ApiError(
        "FORBIDDEN",
        "Cookie-authenticated changes are accepted only from the marketplace's origin.",
      );
    }
    await next();
  });
}

function authorize(access: Access, principal: Principal, param: (name: string) => string | undefined) {
  if (access.accepts.includes("admin") && isAdmin(principal)) return;
  if (principal.via !== "bearer") {
    if (access.accepts.includes("user")) return;
    if (access.accepts.includes("agent"))
      throw new ApiError("FORBIDDEN", "Only the agent's own access token may call this route.");
    throw new ApiError("FORBIDDEN", "This action requires the platform_admin role.");
  }
  if (!access.accepts.includes("agent")) {
    throw new ApiError(
      "FORBIDDEN",
      access.accepts.includes("admin")
        ? `Agent tokens never carry platform-admin power; use an admin client's token with the ${SCOPES.admin} scope.`
        : "An agent's access token cannot call this route; it needs the user's own session.",
    );
  }
  if (access.agentParam && (principal.agentId === null || principal.agentId !== param(access.agentParam))) {
    throw new ApiError("FORBIDDEN", "This access token was issued to another agent.");
  }
}
