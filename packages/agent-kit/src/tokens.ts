import { symmetricDecrypt, symmetricEncrypt } from "better-auth/crypto";
import * as oauth from "oauth4webapi";
import { type BoundedCache, boundedCache } from "./cache.ts";
import { DEFAULT_EXPIRES_IN } from "./config.ts";
import type { Discovery } from "./discovery.ts";
import { MarketplaceUnavailableError, SignInRequiredError } from "./errors.ts";
import type { IdTokenVerifier } from "./id-token.ts";
import {
  type AccountStore,
  type AgentKitStorage,
  StorageLockTimeoutError,
  type StoredAccount,
} from "./storage/types.ts";

export interface TokenManagerDeps {
  storage: AgentKitStorage;
  secret: string;
  /** The discovery document (its `issuer` and `token_endpoint`, already rewritten to the internal URL). */
  discovery: Discovery;
  clientId: string;
  refreshSkewSeconds: number;
  requestTimeoutMs: number;
  verifier: IdTokenVerifier;
  fetch: typeof fetch;
  /** Allows an http: token endpoint (allowInsecureMarketplace). */
  allowInsecure: boolean;
  /** Users whose token and subject are kept in memory. @default 10000 */
  maxUsers?: number;
}

/** What this process knows of a user's marketplace account: its subject and a usable access token. */
interface Known {
  subject: string;
  token: string | null;
  freshUntil: number;
}

/**
 * Hands out a valid marketplace access token for a user, refreshing about a
 * minute before expiry with exactly one refresh per grant at a time
 * (SECURITY-TESTS.md §C): an in-process single flight per user, then the
 * storage's cross-process lock keyed by the user, and a re-read of the
 * stored tokens after taking it — so a refresh token that another request or
 * process already rotated is never presented.
 *
 * The account row is read and decrypted once and then served from memory
 * (bounded LRU) until the access token comes within the refresh skew of its
 * expiry: safe, since a token rotated by another process stays valid until it
 * expires, and a revoked one earns a 401, which forces a refresh. Only the
 * access token is decrypted on that path; the refresh token only to refresh.
 */
export class TokenManager {
  private readonly inFlight = new Map<string, Promise<string>>();
  private readonly known: BoundedCache<string, Known>;
  private readonly as: oauth.AuthorizationServer;
  private readonly client: oauth.Client;

  constructor(private readonly deps: TokenManagerDeps) {
    this.known = boundedCache({ max: deps.maxUsers ?? 10_000, ttlMs: 3_600_000 });
    this.as = deps.discovery as unknown as oauth.AuthorizationServer;
    this.client = { client_id: deps.clientId };
  }

  /** A valid access token for `userId`; throws SignInRequiredError when only a new sign-in can help. */
  async getAccessToken(userId: string, opts: { forceRefresh?: boolean } = {}): Promise<string> {
    if (!opts.forceRefresh) {
      const known = this.known.get(userId);
      if (known?.token && known.freshUntil > Date.now()) return known.token;
      const stored = await this.deps.storage.accounts.read(userId);
      if (stored && this.fresh(stored)) return (await this.remember(userId, stored)).token!;
    }
    const running = this.inFlight.get(userId);
    if (running) return running;
    const refresh = this.refreshLocked(userId, opts.forceRefresh === true).finally(() =>
      this.inFlight.delete(userId),
    );
    this.inFlight.set(userId, refresh);
    return refresh;
  }

  /**
   * The marketplace `sub` of an agent user (never changes), or null without a marketplace account. Reading
   * it also keeps the access token in memory, so the request that asked goes on without a second read.
   */
  async subjectOf(userId: string): Promise<string | null> {
    const known = this.known.get(userId);
    if (known) return known.subject;
    const stored = await this.deps.storage.accounts.read(userId);
    return stored ? (await this.remember(userId, stored)).subject : null;
  }

  /** Forgets the user's marketplace tokens (sign-out, or a refresh token the marketplace refused). */
  async clear(userId: string): Promise<void> {
    await this.clearWith(this.deps.storage.accounts, userId);
  }

  /** The stored refresh and ID tokens (for sign-out: revocation and `id_token_hint`). */
  async storedForSignOut(userId: string) {
    const stored = await this.deps.storage.accounts.read(userId);
    return {
      refreshToken: await this.decrypt(stored?.refreshToken ?? null),
      idToken: stored?.idToken ?? null,
    };
  }

  /** Keeps what a read found; decrypts the access token only if it is still fresh. */
  private async remember(userId: string, stored: StoredAccount): Promise<Known> {
    const fresh = this.fresh(stored);
    const known: Known = {
      subject: stored.accountId,
      token: fresh ? await this.decrypt(stored.accessToken) : null,
      freshUntil: fresh ? this.freshUntil(stored.accessTokenExpiresAt) : 0,
    };
    this.known.set(userId, known);
    return known;
  }

  private freshUntil(expiresAt: Date | null) {
    return (expiresAt?.getTime() ?? 0) - this.deps.refreshSkewSeconds * 1000;
  }

  private fresh(stored: StoredAccount, staleToken?: string | null) {
    if (!stored.accessToken || stored.accessToken === staleToken) return false;
    return this.freshUntil(stored.accessTokenExpiresAt) > Date.now();
  }

  private decrypt(value: string | null) {
    return value ? symmetricDecrypt({ key: this.deps.secret, data: value }) : Promise.resolve(null);
  }

  private async refreshLocked(userId: string, force: boolean): Promise<string> {
    this.known.delete(userId);
    // With `force`, the token the caller holds was refused: a stored one equal to it is stale too.
    const before = force ? await this.deps.storage.accounts.read(userId) : null;
    // Long enough for a holder's refresh (two token requests at most), and then some.
    const waitMs = this.deps.requestTimeoutMs * 3 + 1_000;
    try {
      return await this.deps.storage.withLock(`agent-kit:refresh:${userId}`, waitMs, async (accounts) => {
        // Someone may have refreshed while we waited for the lock.
        const stored = await accounts.read(userId);
        if (!stored) throw new SignInRequiredError("You are not signed in to the marketplace.");
        if (this.fresh(stored, force ? before?.accessToken : undefined))
          return (await this.remember(userId, stored)).token!;
        if (!stored.refreshToken)
          throw new SignInRequiredError("Your marketplace session ended; sign in again.");
        return await this.refresh(accounts, userId, stored);
      });
    } catch (error) {
      if (error instanceof StorageLockTimeoutError)
        throw new MarketplaceUnavailableError("A token refresh is taking too long; try again.", error);
      throw error;
    }
  }

  private async refresh(accounts: AccountStore, userId: string, stored: StoredAccount): Promise<string> {
    const refreshToken = (await this.decrypt(stored.refreshToken))!;
    const response = await this.tokenRequest(refreshToken);
    let body: oauth.TokenEndpointResponse;
    try {
      body = await oauth.processRefreshTokenResponse(this.as, this.client, response);
    } catch (error) {
      // invalid_grant (rotated out, revoked, expired), a disabled client, or an ID token that is not for this
      // client from this issuer (B.25): only a new sign-in helps. Anything else is the marketplace's trouble.
      if (signInAgain(error, response)) {
        await this.clearWith(accounts, userId);
        throw new SignInRequiredError("Your marketplace session ended; sign in again.");
      }
      throw new MarketplaceUnavailableError(`Token refresh answered ${response.status}.`, error);
    }
    if (body.id_token) {
      // B.25: a refreshed ID token must be signed by the issuer, for the same user.
      const claims = await this.deps.verifier.verify(body.id_token).catch(() => null);
      if (!claims || claims.sub !== stored.accountId) {
        await this.clearWith(accounts, userId);
        throw new SignInRequiredError(
          "The marketplace returned an ID token for another user; sign in again.",
        );
      }
    }
    const expiresAt = new Date(Date.now() + (body.expires_in ?? DEFAULT_EXPIRES_IN) * 1000);
    const enc = (v: string) => symmetricEncrypt({ key: this.deps.secret, data: v });
    const accessToken = await enc(body.access_token);
    // B.26: the new refresh token replaces the old one in the same write.
    await accounts.saveTokens(userId, {
      accessToken,
      refreshToken: body.refresh_token ? await enc(body.refresh_token) : null,
      idToken: body.id_token ?? null,
      accessTokenExpiresAt: expiresAt,
    });
    // Remembered as it arrived (no need to decrypt what was just encrypted); used while fresh.
    this.known.set(userId, {
      subject: stored.accountId,
      token: body.access_token,
      freshUntil: this.freshUntil(expiresAt),
    });
    return body.access_token;
  }

  /** One retry on a network error, with the same refresh token: the marketplace never saw the first. */
  private async tokenRequest(refreshToken: string): Promise<Response> {
    const send = () =>
      oauth.refreshTokenGrantRequest(this.as, this.client, oauth.None(), refreshToken, this.requestOptions());
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

  /** RFC 7009: revokes a refresh token at the marketplace, best effort (a sign-out goes on whatever happens). */
  async revoke(refreshToken: string): Promise<void> {
    if (!this.as.revocation_endpoint) return;
    await oauth
      .revocationRequest(this.as, this.client, oauth.None(), refreshToken, {
        ...this.requestOptions(),
        additionalParameters: { token_type_hint: "refresh_token" },
      })
      .catch(() => undefined);
  }

  /** What every request to the marketplace's OAuth endpoints is sent with. */
  private requestOptions() {
    return {
      [oauth.customFetch]: this.deps.fetch,
      [oauth.allowInsecureRequests]: this.deps.allowInsecure,
      signal: AbortSignal.timeout(this.deps.requestTimeoutMs),
    };
  }

  private async clearWith(accounts: AccountStore, userId: string) {
    this.known.delete(userId);
    await accounts.clearTokens(userId);
  }
}

function signInAgain(error: unknown, response: Response): boolean {
  if (response.status === 400 || response.status === 401) return true;
  if (error instanceof oauth.ResponseBodyError || error instanceof oauth.WWWAuthenticateChallengeError)
    return error.status === 400 || error.status === 401;
  // A 200 whose ID token names another issuer or audience, or is expired or from the future.
  const code = (error as { code?: string }).code;
  return response.ok && (code === oauth.JWT_CLAIM_COMPARISON || code === oauth.JWT_TIMESTAMP_CHECK);
}
