import type { BetterAuthOptions } from "better-auth";
import type { WebhookLedger } from "../webhooks/ledger.ts";

/**
 * The marketplace account of one agent user as stored (better-auth's `account` row for the marketplace
 * provider). `accessToken` and `refreshToken` are stored encrypted; agent-kit encrypts and decrypts them.
 */
export interface StoredAccount {
  /** The marketplace `sub`. */
  accountId: string;
  accessToken: string | null;
  refreshToken: string | null;
  idToken: string | null;
  accessTokenExpiresAt: Date | null;
}

/** The tokens of a successful refresh. `null` for `refreshToken` / `idToken` keeps the stored value. */
export interface RefreshedTokens {
  accessToken: string;
  refreshToken: string | null;
  idToken: string | null;
  accessTokenExpiresAt: Date;
}

/** Reads and writes of the marketplace account row, by the agent's user id. */
export interface AccountStore {
  read(userId: string): Promise<StoredAccount | null>;
  /** Stores a refresh's result; the new refresh token replaces the old one in the same write (B.26). */
  saveTokens(userId: string, tokens: RefreshedTokens): Promise<void>;
  /** Forgets the access and refresh tokens (sign-out, or a grant the marketplace refused). */
  clearTokens(userId: string): Promise<void>;
}

/**
 * Everything agent-kit keeps, on the builder's database. Three implementations ship with agent-kit
 * (`@amp/agent-kit/postgres`, `/pglite`, `/sqlite`); docs/storage.md shows how to write another.
 */
export interface AgentKitStorage {
  /** A short name for logs and errors, e.g. "postgres". */
  readonly kind: string;
  /**
   * better-auth's `database` option over the same database (its own Kysely adapter): a `pg` Pool, a
   * `{ dialect, type }`, a `{ db: Kysely, type }`, or any adapter better-auth accepts.
   */
  readonly authDatabase: BetterAuthOptions["database"];
  /**
   * Creates or updates agent-kit's tables (better-auth's `user`, `session`, `account`, `verification`, the
   * callback throttle, and whatever the lock needs). Idempotent and safe when several processes start at
   * once; `createAgentKit` calls it before anything else.
   */
  migrate(): Promise<void>;
  readonly accounts: AccountStore;
  /**
   * One hit on a fixed-window counter shared by every process of the agent: the hit's number within the
   * current window of `windowSeconds`, and the seconds until that window ends.
   */
  throttle(key: string, windowSeconds: number): Promise<{ count: number; retryAfter: number }>;
  /**
   * Runs `fn` while holding the lock named `key` in every process sharing this storage (one refresh per
   * grant at a time, SECURITY-TESTS.md §C). `fn` gets the account store to use while the lock is held (on
   * PostgreSQL, the locked session's connection). A lock that cannot be had within `timeoutMs` rejects.
   */
  withLock<T>(key: string, timeoutMs: number, fn: (accounts: AccountStore) => Promise<T>): Promise<T>;
  /**
   * The marketplace events already applied (ids, last sequence per user) for `kit.webhooks`
   * (webhooks/ledger.ts; docs/agent-events.md). The shipped storages have it; without it the
   * webhook route refuses to start.
   */
  readonly webhooks?: WebhookLedger;
}

export class StorageLockTimeoutError extends Error {
  override name = "StorageLockTimeoutError";
}
