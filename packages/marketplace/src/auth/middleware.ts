import type { MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import type { Config } from "../config.ts";
import { type IdentifyDeps, type Principal, principalResolver } from "./principal.ts";

/** What a route's guard needs to know about the caller; set once per request. */
export interface Security {
  identify(headers: Headers): Promise<Principal | null>;
  /** 401 envelope details that let a caller send its user to sign in or up. */
  signInDetails: { signInUrl: string; signUpUrl: string };
  /** Origins whose cookie-carried state changes are accepted (the marketplace and its configured UI). */
  trustedOrigins: readonly string[];
}

export type AuthVariables = { principal: Principal | null; security: Security };

/** Puts the caller-identification service in the context; the declared guards (`access.ts`) use it. */
export function securityContext(deps: IdentifyDeps, config: Config): MiddlewareHandler<AppEnv> {
  const security: Security = {
    identify: principalResolver(deps),
    signInDetails: signInDetails(config),
    trustedOrigins: [
      new URL(config.baseUrl).origin,
      ...(config.uiOrigin ? [new URL(config.uiOrigin).origin] : []),
    ],
  };
  return createMiddleware<AppEnv>(async (c, next) => {
    c.set("security", security);
    c.set("principal", null);
    await next();
  });
}

const signInDetails = (config: Config) => ({
  signInUrl: `${config.baseUrl}/sign-in`,
  signUpUrl: `${config.baseUrl}/sign-up`,
});
