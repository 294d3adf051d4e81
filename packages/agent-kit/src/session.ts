import type { MarketplaceUser } from "@amp/contract";
import type { AgentAuth } from "./auth.ts";
import { type BoundedCache, boundedCache } from "./cache.ts";
import type { TokenManager } from "./tokens.ts";

/** A signed-in user of this agent. `id` is the agent's own user id; `marketplaceUserId` is the marketplace `sub`. */
export interface AgentUser {
  id: string;
  marketplaceUserId: string;
  email: string;
  name: string;
  image: string | null;
  marketplaceRole: MarketplaceUser["marketplaceRole"];
}

/**
 * How long a session cookie's user is answered from memory: the requests of one page load ask about the same
 * session. Signing out here evicts at once; a session ended in another process is seen within this window
 * (and better-auth's cookie-cache window).
 */
const SESSION_MEMO_MS = 5_000;

/** The signed-in user of a request: better-auth's session, memoised per session cookie (bounded LRU). */
export class Sessions {
  private readonly memo: BoundedCache<string, AgentUser>;

  constructor(
    private readonly auth: AgentAuth,
    private readonly tokens: TokenManager,
    private readonly cookiePrefix: string,
    maxSessions = 10_000,
  ) {
    this.memo = boundedCache({ max: maxSessions, ttlMs: SESSION_MEMO_MS });
  }

  async user(headers: Headers): Promise<AgentUser | null> {
    const key = this.key(headers);
    const hit = key ? this.memo.get(key) : undefined;
    if (hit) return hit;
    const session = await this.auth.api.getSession({ headers });
    if (!session) return null;
    const user = session.user as typeof session.user & { marketplaceRole?: string };
    const agentUser: AgentUser = {
      id: user.id,
      // Reads the account row once; the access token it holds is then kept for this request's marketplace call.
      marketplaceUserId: (await this.tokens.subjectOf(user.id)) ?? user.id,
      email: user.email,
      name: user.name,
      image: user.image ?? null,
      marketplaceRole: (user.marketplaceRole as AgentUser["marketplaceRole"]) ?? "org_member",
    };
    if (key) this.memo.set(key, agentUser);
    return agentUser;
  }

  /** Forgets the memo of a request's session (signing out). */
  forget(headers: Headers) {
    const key = this.key(headers);
    if (key) this.memo.delete(key);
  }

  /** The session cookie of a request ("name=value"), which identifies the session for the memo. */
  private key(headers: Headers): string | null {
    const name = `${this.cookiePrefix}.session_token=`;
    for (const part of (headers.get("cookie") ?? "").split(";")) {
      const pair = part.trim();
      if (pair.startsWith(name) || pair.startsWith(`__Secure-${name}`)) return pair;
    }
    return null;
  }
}
