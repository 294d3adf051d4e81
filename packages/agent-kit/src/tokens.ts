import type { SqlClient } from "@amp/db";
import { symmetricDecrypt, symmetricEncrypt } from "better-auth/crypto";
import { PROVIDER_ID } from "./auth.ts";
import { DEFAULT_EXPIRES_IN } from "./config.ts";
import { MarketplaceUnavailableError, SignInRequiredError } from "./errors.ts";
import type { IdTokenVerifier } from "./id-token.ts";

interface StoredTokens {
  accountId: string;
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  accessTokenExpiresAt: Date | null;
}

export interface TokenManagerDeps {
  sql: SqlClient;
  secret: string;
  tokenEndpoint: string;
  clientId: string;
  refreshSkewSeconds: number;
  requestTimeoutMs: number;
  verifier: IdTokenVerifier;
  fetch: typeof fetch;
}

/**
 * Hands out a valid marketplace access token for a user, refreshing about a
 * minute before expiry with exactly one refresh per grant at a time
 * (SECURITY-TESTS.md §C): an in-process single-flight map, then a PostgreSQL
 * advisory lock keyed by the account across processes, and a re-read of the
 * stored tokens after taking it — so a refresh token that another request or
 * process already rotated is never presented.
 */
export class TokenManager {
  private readonly inFlight = new Map<string, Promise<string>>();
  /**
   * Decrypted access tokens this process has seen, until they come within the refresh skew of expiry. Safe to
   * keep: a token rotated by another process stays valid until it expires, and a revoked one earns a 401,
   * which forces a refresh.
   */
  private readonly memo = new Map<string, { token: string; freshUntil: number }>();

  constructor(private readonly deps: TokenManagerDeps) {}

  /** A valid access token for `userId`; throws SignInRequiredError when only a new sign-in can help. */
  async getAccessToken(userId: string, opts: { forceRefresh?: boolean } = {}): Promise<string> {
    if (!opts.forceRefresh) {
      const memo = this.memo.get(userId);
      if (memo && memo.freshUntil > Date.now()) return memo.token;
      const stored = await this.read(this.deps.sql, userId);
      if (stored?.accessToken && this.fresh(stored)) {
        return this.remember(userId, stored.accessToken, stored.accessTokenExpiresAt);
      }
    }
    this.memo.delete(userId);
    const running = this.inFlight.get(userId);
    if (running) return running;
    const refresh = this.refreshLocked(userId, opts.forceRefresh === true).finally(() =>
      this.inFlight.delete(userId),
    );
    this.inFlight.set(userId, refresh);
    return refresh;
  }

  /** Forgets the user's marketplace tokens (sign-out, or a refresh token the marketplace refused). */
  async clear(userId: string): Promise<void> {
    await this.clearWith(this.deps.sql, userId);
  }

  private remember(userId: string, token: string, expiresAt: Date | null): string {
    const freshUntil = (expiresAt?.getTime() ?? 0) - this.deps.refreshSkewSeconds * 1000;
    if (this.memo.size > 100_000) this.memo.clear();
    this.memo.set(userId, { token, freshUntil });
    return token;
  }

  /** The stored refresh and ID tokens (for sign-out: revocation and `id_token_hint`). */
  async storedForSignOut(userId: string) {
    const stored = await this.read(this.deps.sql, userId);
    return { refreshToken: stored?.refreshToken ?? null, idToken: stored?.idToken ?? null };
  }

  private fresh(stored: StoredTokens, staleToken?: string | null) {
    if (!stored.accessToken || stored.accessToken === staleToken) return false;
    const expiresAt = stored.accessTokenExpiresAt?.getTime() ?? 0;
    return expiresAt - this.deps.refreshSkewSeconds * 1000 > Date.now();
  }

  private async refreshLocked(userId: string, force: boolean): Promise<string> {
    const before = force ? await this.read(this.deps.sql, userId) : null;
    return this.deps.sql.withSession(async (session) => {
      const key = `agent-kit:refresh:${userId}`;
      await session.query("SELECT pg_advisory_lock(hashtextextended($1, 0))", [key]);
      try {
        // Someone may have refreshed while we waited for the lock.
        const stored = await this.read(session, userId);
        if (!stored) throw new SignInRequiredError("You are not signed in to the marketplace.");
        if (this.fresh(stored, force ? before?.accessToken : undefined)) {
          return this.remember(userId, stored.accessToken!, stored.accessTokenExpiresAt);
        }
        if (!stored.refreshToken)
          throw new SignInRequiredError("Your marketplace session ended; sign in again.");
        return await this.refresh(session, userId, stored);
      } finally {
        await session.query("SELECT pg_advisory_unlock(hashtextextended($1, 0))", [key]);
      }
    });
  }

  private async refresh(session: SqlClient, userId: string, stored: StoredTokens): Promise<string> {
    const response = await this.tokenRequest(stored.refreshToken!);
    const body = (await response.json().catch(() => ({}))) as Record<string, unknown>;
    if (response.status === 400 || response.status === 401) {
      // invalid_grant (rotated out, revoked, expired) or a disabled client: only a new sign-in helps.
      await this.clearWith(session, userId);
      throw new SignInRequiredError("Your marketplace session ended; sign in again.");
    }
    if (!response.ok || typeof body.access_token !== "string") {
      throw new MarketplaceUnavailableError(`Token refresh answered ${response.status}.`);
    }
    if (typeof body.id_token === "string") {
      // B.25: a refreshed ID token must be for the same user from the same issuer.
      const claims = await this.deps.verifier.verify(body.id_token).catch(() => null);
      if (!claims || claims.sub !== stored.accountId) {
        await this.clearWith(session, userId);
        throw new SignInRequiredError(
          "The marketplace returned an ID token for another user; sign in again.",
        );
      }
    }
    const expiresIn = typeof body.expires_in === "number" ? body.expires_in : DEFAULT_EXPIRES_IN;
    const expiresAt = new Date(Date.now() + expiresIn * 1000);
    const enc = (v: string) => symmetricEncrypt({ key: this.deps.secret, data: v });
    // B.26: the new refresh token replaces the old one in the same statement.
    await session.query(
      `UPDATE "account" SET "accessToken" = $1, "refreshToken" = coalesce($2, "refreshToken"), "idToken" = coalesce($3, "idToken"),
              "accessTokenExpiresAt" = $4, "updatedAt" = now()
        WHERE "userId" = $5 AND "providerId" = $6`,
      [
        await enc(body.access_token),
        typeof body.refresh_token === "string" ? await enc(body.refresh_token) : null,
        typeof body.id_token === "string" ? body.id_token : null,
        expiresAt,
        userId,
        PROVIDER_ID,
      ],
    );
    return this.remember(userId, body.access_token, expiresAt);
  }

  /** One retry on a network error, with the same refresh token: the marketplace never saw the first. */
  private async tokenRequest(refreshToken: string): Promise<Response> {
    const send = () =>
      this.deps.fetch(this.deps.tokenEndpoint, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", accept: "application/json" },
        body: new URLSearchParams({
          grant_type: "refresh_token",
          refresh_token: refreshToken,
          client_id: this.deps.clientId,
        }),
        signal: AbortSignal.timeout(this.deps.requestTimeoutMs),
      });
    try {
      return await send();
    } catch {
      try {
        return await send();
      } catch (error) {
        throw new MarketplaceUnavailableError("The marketplace's token endpoint is unreachable.", error);
      }
    }
  }

  private async clearWith(session: SqlClient, userId: string) {
    this.memo.delete(userId);
    await session.query(
      `UPDATE "account" SET "accessToken" = NULL, "refreshToken" = NULL, "accessTokenExpiresAt" = NULL, "updatedAt" = now()
        WHERE "userId" = $1 AND "providerId" = $2`,
      [userId, PROVIDER_ID],
    );
  }

  private async read(sql: SqlClient, userId: string): Promise<StoredTokens | null> {
    const { rows } = await sql.query<StoredTokens>(
      `SELECT "accountId", "accessToken", "refreshToken", "idToken", "accessTokenExpiresAt"
         FROM "account" WHERE "userId" = $1 AND "providerId" = $2 LIMIT 1`,
      [userId, PROVIDER_ID],
    );
    const row = rows[0];
    if (!row) return null;
    const dec = (v: string | null) => (v ? symmetricDecrypt({ key: this.deps.secret, data: v }) : null);
    return {
      ...row,
      accessToken: await dec(row.accessToken),
      refreshToken: await dec(row.refreshToken),
      accessTokenExpiresAt: row.accessTokenExpiresAt ? new Date(row.accessTokenExpiresAt) : null,
    };
  }
}
