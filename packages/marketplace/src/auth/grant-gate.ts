import type { KeyedLocks, TakeLock } from "@amp/db";
import type { SqlClient } from "../db/database.ts";
import { hashToken } from "./bearer.ts";

interface Family {
  clientId: string;
  userId: string;
}

/**
 * Makes the token endpoint's one-time grants strict across every instance
 * (CONTRACT.md §2, SECURITY-TESTS.md §A.20, §A.21, §A.31 and §C).
 *
 * The provider plugin checks "already used?" and then issues in separate,
 * non-transactional statements, so two instances racing with one grant can
 * interleave: the loser's replay cleanup deletes what the winner is still
 * writing (a foreign-key 500), or runs before the winner's tokens exist and
 * leaves them alive.
 *
 * Every code redemption and refresh therefore runs under database locks
 * (`KeyedLocks`, advisory locks on PostgreSQL) held for the whole exchange:
 * first the code's own lock, then the lock of its family (one user's grants
 * to one client, which is what refresh-reuse detection invalidates). Inside
 * the locks the outcome of any earlier exchange is committed and visible, and
 * the gate decides the cases the plugin handles non-atomically itself, each
 * in one statement:
 * - a code that was already redeemed is `invalid_grant` and revokes every
 *   token issued from it (RFC 6749 §4.1.2);
 * - a rotated-out refresh token presented outside the reuse grace window is
 *   `invalid_grant` and deletes the whole family;
 * - a refresh for a banned user is `invalid_grant`, checked on every refresh.
 * Everything else goes to the plugin, still under the locks.
 */
/** A theft signal the gate acted on: a replayed authorization code or a reused rotated-out refresh token. */
export interface GrantReplay {
  kind: "code_replay" | "refresh_reuse";
  clientId: string;
  userId: string;
}

export class GrantGate {
  constructor(
    private readonly sql: SqlClient,
    private readonly locks: KeyedLocks,
    /** Told after the gate revoked what a replay put at risk (metrics, audit); never changes the answer. */
    private readonly onReplay: (replay: GrantReplay) => Promise<void> = async () => {},
  ) {}

  exchange(form: URLSearchParams, run: () => Promise<Response>): Promise<Response> {
    const grantType = form.get("grant_type");
    const code = grantType === "authorization_code" ? form.get("code") : null;
    const refreshToken = grantType === "refresh_token" ? form.get("refresh_token") : null;
    if (code) return this.locks.hold((lock) => this.redeem(lock, hashToken(code), run));
    if (refreshToken) {
      return this.locks.hold((lock) => this.refresh(lock, hashToken(refreshToken), form, run));
    }
    return run();
  }

  private async redeem(lock: TakeLock, codeHash: string, run: () => Promise<Response>) {
    await lock(`grant:code:${codeHash}`);
    const { rows } = await this.sql.query<{ value: string }>(
      `SELECT value FROM "verification" WHERE identifier = $1 LIMIT 1`,
      [codeHash],
    );
    const pending = rows[0] ? familyOfVerification(rows[0].value) : null;
    if (rows[0]) {
      if (pending) await lock(familyLock(pending));
      return run();
    }
    // Redeemed before (or never issued): revoke whatever it issued, under its family's lock.
    const issued = await this.sql.query<Family>(
      `SELECT "clientId", "userId" FROM "oauthRefreshToken" WHERE "authorizationCodeId" = $1
       UNION ALL
       SELECT "clientId", "userId" FROM "oauthAccessToken" WHERE "authorizationCodeId" = $1 AND "userId" IS NOT NULL
       LIMIT 1`,
      [codeHash],
    );
    if (issued.rows[0]) {
      await lock(familyLock(issued.rows[0]));
      // One statement: the access tokens go with their refresh token (ON DELETE CASCADE) or by code.
      await this.sql.query(
        `WITH access AS (DELETE FROM "oauthAccessToken" WHERE "authorizationCodeId" = $1)
         DELETE FROM "oauthRefreshToken" WHERE "authorizationCodeId" = $1`,
        [codeHash],
      );
      await this.onReplay({ kind: "code_replay", ...issued.rows[0] });
    }
    return invalidGrant("invalid code");
  }

  private async refresh(
    lock: TakeLock,
    tokenHash: string,
    form: URLSearchParams,
    run: () => Promise<Response>,
  ) {
    const family = await this.sql.query<Family>(
      `SELECT "clientId", "userId" FROM "oauthRefreshToken" WHERE token = $1`,
      [tokenHash],
    );
    // Unknown token: nothing to race with; the plugin answers invalid_grant.
    if (!family.rows[0]) return run();
    await lock(familyLock(family.rows[0]));
    const { rows } = await this.sql.query<
      Family & { revoked: Date | null; replayable: boolean; banned: boolean }
    >(
      `SELECT r."clientId", r."userId", r.revoked,
              coalesce(r."rotationReplayExpiresAt" > now(), false) AS replayable,
              coalesce(u.banned AND (u."banExpires" IS NULL OR u."banExpires" > now()), false) AS banned
         FROM "oauthRefreshToken" r JOIN "user" u ON u.id = r."userId"
        WHERE r.token = $1`,
      [tokenHash],
    );
    const token = rows[0];
    // Gone while we waited (the family was invalidated): the plugin answers invalid_grant.
    if (!token) return run();
    if (token.banned) return invalidGrant("the user is banned");
    if (token.revoked && !token.replayable && form.get("client_id") === token.clientId) {
      // Reuse of a rotated-out token: the whole family goes, in one statement (access tokens cascade).
      await this.sql.query(`DELETE FROM "oauthRefreshToken" WHERE "clientId" = $1 AND "userId" = $2`, [
        token.clientId,
        token.userId,
      ]);
      await this.onReplay({ kind: "refresh_reuse", clientId: token.clientId, userId: token.userId });
      return invalidGrant("invalid refresh token");
    }
    return run();
  }
}

const familyLock = (family: Family) => `grant:family:${family.clientId}:${family.userId}`;

/** The (client, user) a pending authorization code belongs to, from the provider's verification value. */
function familyOfVerification(value: string): Family | null {
  try {
    const parsed = JSON.parse(value) as { userId?: unknown; query?: { client_id?: unknown } };
    const userId = parsed.userId;
    const clientId = parsed.query?.client_id;
    return typeof userId === "string" && typeof clientId === "string" ? { clientId, userId } : null;
  } catch {
    return null;
  }
}

function invalidGrant(description: string): Response {
  return new Response(JSON.stringify({ error: "invalid_grant", error_description: description }), {
    status: 400,
    headers: { "content-type": "application/json", "cache-control": "no-store", pragma: "no-cache" },
  });
}
