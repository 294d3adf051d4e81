import { AsyncLocalStorage } from "node:async_hooks";
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { Principal } from "../auth/principal.ts";

export type ActorKind = "user" | "admin_token" | "cli" | "system" | "anonymous";
export interface Actor {
  id: string | null;
  kind: ActorKind;
}

interface AuditScope {
  requestId: string | null;
  /** Resolved when a row is written: the route's guard identifies the caller after this scope opens. */
  actor(): Actor;
}

const scope = new AsyncLocalStorage<AuditScope>();
const SYSTEM: Actor = { id: null, kind: "system" };

/**
 * Opens the audit scope of a request: every audit row written while it is
 * handled carries its request id and the caller the guard identified. A
 * scope rather than an argument threaded through every service, so a service
 * called from a route, the CLI or a better-auth hook records the same way.
 */
export function auditScope(): MiddlewareHandler<AppEnv> {
  return (c, next) =>
    scope.run(
      {
        requestId: c.get("requestId") ?? null,
        actor: () => actorOf(c.get("principal") ?? null),
      },
      next,
    );
}

/** Runs an operator command: its audit rows name the CLI as the actor. */
export function asOperator<T>(fn: () => Promise<T>): Promise<T> {
  return scope.run({ requestId: null, actor: () => ({ id: "cli", kind: "cli" }) }, fn);
}

/** Who is acting and in which request; outside any scope (webhooks' own work, tests) it is the system. */
export function currentActor(override?: Actor): { actor: Actor; requestId: string | null } {
  const current = scope.getStore();
  return { actor: override ?? current?.actor() ?? SYSTEM, requestId: current?.requestId ?? null };
}

function actorOf(principal: Principal | null): Actor {
  if (!principal) return { id: null, kind: "anonymous" };
  return { id: principal.userId, kind: principal.via === "bearer" ? "admin_token" : "user" };
}
