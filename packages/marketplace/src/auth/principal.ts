import { DEFAULT_ROLE, type Role, RoleSchema, SCOPES } from "@amp/contract";
import { eq } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { agents, user } from "../db/schema.ts";
import type { Auth } from "./auth.ts";
import { type BearerCache, hashToken } from "./bearer.ts";

/** The authenticated caller of a marketplace API route. */
export interface Principal {
  userId: string;
  role: Role;
  /** `cookie` and `jwt` are the user's own credentials; `bearer` is an OAuth access token of some client. */
  via: "cookie" | "jwt" | "bearer";
  /** Bearer callers: the OAuth client, the agent that client belongs to (null: not an agent's), granted scopes. */
  clientId?: string;
  agentId?: string | null;
  scopes?: string[];
  /** Opaque bearer tokens: charging re-checks the token in its own transaction (migrations/0005). */
  tokenHash?: string;
}

/** A platform admin acting as such: with their own session, or through an admin client granted `marketplace:admin`. */
export function isAdmin(principal: Principal): boolean {
  if (principal.role !== "platform_admin") return false;
  if (principal.via !== "bearer") return true;
  return principal.agentId === null && (principal.scopes ?? []).includes(SCOPES.admin);
}

/** True when a bearer caller was granted `scope`; the user's own credentials carry every scope. */
export const hasScope = (principal: Principal, scope: string) =>
  principal.via !== "bearer" || (principal.scopes ?? []).includes(scope);

const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

export interface IdentifyDeps {
  auth: Auth;
  bearer: BearerCache;
  db: Db;
}

/**
 * Identifies the caller: the marketplace's own cookie session first, then
 * `Authorization: Bearer` (an opaque access token, or a JWT from our
 * `/token` endpoint verified against our JWKS). A banned or deleted user has
 * no identity, whatever the credential. Never throws for a bad credential;
 * the route's declared access decides what is required.
 */
export function principalResolver({ auth, bearer, db }: IdentifyDeps) {
  // The agent a client belongs to never changes once created, so it is cached for the process's life.
  const agentOfClient = new Map<string, string>();

  async function agentIdOf(clientId: string): Promise<string | null> {
    const cached = agentOfClient.get(clientId);
    if (cached) return cached;
    const [row] = await db
      .select({ id: agents.id })
      .from(agents)
      .where(eq(agents.oauthClientId, clientId))
      .limit(1);
    if (row) agentOfClient.set(clientId, row.id);
    return row?.id ?? null;
  }

  return async function identify(headers: Headers): Promise<Principal | null> {
    if (headers.get("cookie")) {
      const session = await auth.api.getSession({ headers });
      if (session && !session.user.banned) {
        return { userId: session.user.id, role: toRole(session.user.role), via: "cookie" };
      }
    }
    const match = /^Bearer\s+(\S+)$/i.exec(headers.get("authorization") ?? "");
    const token = match?.[1];
    if (!token) return null;
    if (JWT_SHAPE.test(token)) {
      const payload = (await auth.api.verifyJWT({ body: { token } })).payload;
      if (!payload?.sub) return null;
      const [row] = await db
        .select({ role: user.role, banned: user.banned })
        .from(user)
        .where(eq(user.id, payload.sub))
        .limit(1);
      if (!row || row.banned) return null;
      return { userId: payload.sub, role: toRole(row.role), via: "jwt" };
    }
    const grant = await bearer.resolve(token);
    if (!grant) return null;
    return {
      userId: grant.userId,
      role: toRole(grant.role),
      via: "bearer",
      clientId: grant.clientId,
      agentId: await agentIdOf(grant.clientId),
      scopes: grant.scopes,
      tokenHash: hashToken(token),
    };
  };
}

const toRole = (value: unknown): Role => {
  const parsed = RoleSchema.safeParse(value);
  return parsed.success ? parsed.data : DEFAULT_ROLE;
};
