import { createHash } from "node:crypto";
import { and, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../db/database.ts";
import { oauthAccessToken, oauthClient, user } from "../db/schema.ts";

/** Who an opaque access token speaks for. */
export interface BearerGrant {
  userId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
  role: string | null;
}

/**
 * Hash used by the provider plugin to store opaque tokens ("hashed" storage:
 * SHA-256, base64url without padding); lookups must use the same.
 */
export const hashToken = (token: string) => createHash("sha256").update(token).digest("base64url");

/** The channel on which the database announces ended validity (migrations/0009_revocation_notify.sql). */
export const BEARER_REVOKED_CHANNEL = "bearer_revoked";

/**
 * Resolves opaque access tokens to grants, with a short per-process cache so
 * the hot path (every consume call) does not pay a lookup each time.
 *
 * The cache is only an optimisation: the database notifies every instance
 * (`BEARER_REVOKED_CHANNEL`) when a token is revoked or deleted, a user is
 * banned or a client disabled, and `evict` drops the entries at once; if
 * notifications may have been missed, `clear` drops everything. `ttlMs` bounds
 * staleness should a notification never arrive, and charging re-checks the
 * token in the consume transaction itself (migrations/0005).
 */
export class BearerCache {
  private readonly entries = new Map<string, { grant: BearerGrant | null; until: number }>();
  private static readonly MAX_ENTRIES = 50_000;
  /** Bumped by every eviction; a lookup that raced one is not cached. */
  private generation = 0;

  constructor(
    private readonly db: Db,
    private readonly ttlMs: number,
  ) {}

  async resolve(token: string): Promise<BearerGrant | null> {
    const key = hashToken(token);
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && hit.until > now) {
      return hit.grant && hit.grant.expiresAt > now ? hit.grant : null;
    }
    const generation = this.generation;
    const grant = await this.lookup(key);
    if (this.ttlMs > 0 && generation === this.generation) {
      if (this.entries.size >= BearerCache.MAX_ENTRIES) this.entries.clear();
      this.entries.set(key, { grant, until: now + this.ttlMs });
    }
    return grant;
  }

  /** Looks the token up without the cache (userinfo must honour revocation from any instance). */
  resolveFresh(token: string): Promise<BearerGrant | null> {
    return this.lookup(hashToken(token));
  }

  async forget(token: string): Promise<void> {
    this.generation++;
    this.entries.delete(hashToken(token));
  }

  clear() {
    this.generation++;
    this.entries.clear();
  }

  /** Applies one notification: `token:<hash>`, `user:<id>` or `client:<clientId>`. */
  evict(message: string) {
    this.generation++;
    const colon = message.indexOf(":");
    const kind = message.slice(0, colon);
    const id = message.slice(colon + 1);
    if (kind === "token") {
      this.entries.delete(id);
      return;
    }
    if (kind !== "user" && kind !== "client") return this.entries.clear();
    for (const [key, { grant }] of this.entries) {
      if (grant && (kind === "user" ? grant.userId : grant.clientId) === id) this.entries.delete(key);
    }
  }

  /** The subscription to `BEARER_REVOKED_CHANNEL` that keeps this cache honest. */
  subscription() {
    return { onMessage: (message: string) => this.evict(message), onGap: () => this.clear() };
  }

  private async lookup(hash: string): Promise<BearerGrant | null> {
    const rows = await this.db
      .select({
        userId: oauthAccessToken.userId,
        clientId: oauthAccessToken.clientId,
        scopes: oauthAccessToken.scopes,
        expiresAt: oauthAccessToken.expiresAt,
        role: user.role,
      })
      .from(oauthAccessToken)
      .innerJoin(oauthClient, eq(oauthClient.clientId, oauthAccessToken.clientId))
      .innerJoin(user, eq(user.id, oauthAccessToken.userId))
      .where(
        and(
          eq(oauthAccessToken.token, hash),
          isNull(oauthAccessToken.revoked),
          gt(oauthAccessToken.expiresAt, new Date()),
          // A disabled client (inactive agent) and a banned user lose API access at once.
          sql`coalesce(${oauthClient.disabled}, false) = false`,
          sql`coalesce(${user.banned}, false) = false`,
        ),
      )
      .limit(1);
    const row = rows[0];
    if (!row?.userId) return null;
    return {
      userId: row.userId,
      clientId: row.clientId,
      scopes: row.scopes,
      expiresAt: row.expiresAt.getTime(),
      role: row.role,
    };
  }
}
