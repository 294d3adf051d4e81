import { getMigrations } from "better-auth/db/migration";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_SCHEMA_OPTIONS } from "../src/auth.ts";
import { StorageLockTimeoutError } from "../src/storage/types.ts";
import { startRelyingParty } from "./support/relying-party.ts";
import { type StorageKind, type TestStore, testStore } from "./support/storage.ts";

/**
 * The contract every AgentKitStorage keeps (docs/storage.md), run over the three that ship. PostgreSQL runs
 * with TEST_DATABASE_URL: in the PostgreSQL pass of CI (`npm run test:pg`), like the other PostgreSQL-only
 * suites; the default `npm test` runs with no database server.
 */
const kinds: StorageKind[] = ["pglite", "sqlite"];
if (process.env.TEST_DATABASE_URL) kinds.push("postgres");

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe.each(kinds)("%s storage", (kind) => {
  let db: TestStore;
  beforeAll(async () => {
    db = await testStore(kind);
    await db.storage.migrate();
  });
  afterAll(() => db?.close());

  it("migrate() is idempotent, also when two processes run it at once", async () => {
    const other = await db.second();
    try {
      await Promise.all([db.storage.migrate(), other.storage.migrate(), db.storage.migrate()]);
      const applied = await db.query<{ id: string }>(`SELECT "id" FROM "agent_kit_migrations" ORDER BY "id"`);
      expect(applied.map((r) => r.id)).toEqual(
        kind === "sqlite"
          ? ["0001_auth", "0002_callback_throttle", "0003_lock", "0004_webhook_ledger"]
          : ["0001_auth", "0002_callback_throttle", "0003_webhook_ledger"],
      );
      for (const table of [
        "user",
        "session",
        "account",
        "verification",
        "agent_kit_throttle",
        "agent_kit_webhook_events",
        "agent_kit_webhook_sequences",
      ])
        expect(await db.query(`SELECT count(*) AS n FROM "${table}"`)).toHaveLength(1);
    } finally {
      await other.close();
    }
  });

  it("better-auth's own planner finds nothing left to create (the shipped schema matches the pinned better-auth)", async () => {
    const { toBeCreated, toBeAdded } = await getMigrations({
      database: db.storage.authDatabase,
      ...AUTH_SCHEMA_OPTIONS,
    } as never);
    expect(toBeCreated).toEqual([]);
    expect(toBeAdded).toEqual([]);
  });

  it("throttle(): one counter per key and window, shared by every process", async () => {
    const other = await db.second();
    try {
      const hits = [];
      for (let i = 0; i < 3; i++) hits.push(await db.storage.throttle("k1", 60));
      hits.push(await other.storage.throttle("k1", 60));
      expect(hits.map((h) => h.count)).toEqual([1, 2, 3, 4]);
      for (const h of hits) {
        expect(h.retryAfter).toBeGreaterThan(0);
        expect(h.retryAfter).toBeLessThanOrEqual(60);
      }
      expect((await db.storage.throttle("k2", 60)).count).toBe(1);
    } finally {
      await other.close();
    }
  });

  it("withLock(): one holder per key across processes; other keys are not held up", async () => {
    const other = await db.second();
    try {
      let inside = 0;
      let most = 0;
      const critical = async () => {
        inside++;
        most = Math.max(most, inside);
        await tick();
        await tick();
        inside--;
      };
      const storages = [db.storage, other.storage];
      await Promise.all(
        Array.from({ length: 12 }, (_, i) => storages[i % 2]!.withLock("lock:a", 10_000, critical)),
      );
      expect(most).toBe(1);
      // Two keys held at the same time: the second does not wait for the first.
      let release!: () => void;
      const held = db.storage.withLock("lock:b", 10_000, () => new Promise<void>((r) => (release = r)));
      await tick();
      await expect(other.storage.withLock("lock:c", 2_000, async () => "c")).resolves.toBe("c");
      release();
      await held;
    } finally {
      await other.close();
    }
  });

  it("withLock(): a waiter gives up with StorageLockTimeoutError, and the lock is free once released", async () => {
    const other = await db.second();
    try {
      let release!: () => void;
      const held = db.storage.withLock("lock:t", 10_000, () => new Promise<void>((r) => (release = r)));
      await tick();
      await expect(other.storage.withLock("lock:t", 300, async () => "late")).rejects.toBeInstanceOf(
        StorageLockTimeoutError,
      );
      release();
      await held;
      await expect(other.storage.withLock("lock:t", 2_000, async () => "free")).resolves.toBe("free");
      // A throwing holder releases the lock too.
      await expect(
        db.storage.withLock("lock:t", 2_000, async () => {
          throw new Error("boom");
        }),
      ).rejects.toThrow("boom");
      await expect(other.storage.withLock("lock:t", 2_000, async () => "again")).resolves.toBe("again");
    } finally {
      await other.close();
    }
  });

  it("accounts: read, saveTokens (a null refresh token keeps the stored one), clearTokens", async () => {
    const now = kind === "sqlite" ? new Date().toISOString() : new Date();
    await db.query(
      `INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt") VALUES ($1, $2, $3, $4, $5, $6)`,
      ["u1", "U", "u1@example.com", kind === "sqlite" ? 1 : true, now, now],
    );
    await db.query(
      `INSERT INTO "account" ("id", "accountId", "providerId", "userId", "accessToken", "refreshToken", "accessTokenExpiresAt", "createdAt", "updatedAt")
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
      ["a1", "sub-1", "marketplace", "u1", "enc-a", "enc-r", now, now, now],
    );
    expect(await db.storage.accounts.read("nobody")).toBeNull();
    const first = await db.storage.accounts.read("u1");
    expect(first).toMatchObject({
      accountId: "sub-1",
      accessToken: "enc-a",
      refreshToken: "enc-r",
      idToken: null,
    });
    expect(first!.accessTokenExpiresAt).toBeInstanceOf(Date);
    const expires = new Date(Date.now() + 3_600_000);
    await db.storage.accounts.saveTokens("u1", {
      accessToken: "enc-a2",
      refreshToken: null,
      idToken: "id-2",
      accessTokenExpiresAt: expires,
    });
    const second = await db.storage.accounts.read("u1");
    expect(second).toMatchObject({ accessToken: "enc-a2", refreshToken: "enc-r", idToken: "id-2" });
    expect(second!.accessTokenExpiresAt!.getTime()).toBe(expires.getTime());
    await db.storage.accounts.saveTokens("u1", {
      accessToken: "enc-a3",
      refreshToken: "enc-r3",
      idToken: null,
      accessTokenExpiresAt: expires,
    });
    expect(await db.storage.accounts.read("u1")).toMatchObject({ refreshToken: "enc-r3", idToken: "id-2" });
    await db.storage.accounts.clearTokens("u1");
    expect(await db.storage.accounts.read("u1")).toMatchObject({
      accountId: "sub-1",
      accessToken: null,
      refreshToken: null,
      accessTokenExpiresAt: null,
    });
  });
});

describe.each(kinds)("agent-kit on %s: sign-in, then one refresh per grant across two processes", (kind) => {
  let rp: Awaited<ReturnType<typeof startRelyingParty>>;
  beforeAll(async () => {
    rp = await startRelyingParty({ storage: kind });
  });
  afterAll(() => rp?.close());

  it("signs in, stores encrypted tokens, and 20 concurrent refreshes from two kits present the refresh token once", async () => {
    const { browser, callback } = await rp.signIn();
    expect(callback.status).toBe(303);
    const me = await browser.fetch("/me");
    expect(me.status).toBe(200);
    const [row] = await rp.db.query<{ userId: string; refreshToken: string }>(
      `SELECT "userId", "refreshToken" FROM "account" WHERE "providerId" = 'marketplace'`,
    );
    const stored = await rp.kit.tokens.storedForSignOut(row!.userId);
    expect(stored.refreshToken).toBeTruthy();
    expect(row!.refreshToken).not.toContain(stored.refreshToken!); // encrypted at rest

    const other = await rp.db.second();
    const { AgentKit } = await import("../src/kit.ts");
    const { issuer: _i, internalUrl: _u, fetch: _f, ...options } = rp.kit.options;
    // Two fresh kits (nothing in memory), as two processes that start after the sign-in.
    const kit1 = await AgentKit.create({ ...options, storage: rp.db.storage });
    const kit2 = await AgentKit.create({ ...options, storage: other.storage });
    try {
      // Expire the stored access token.
      const past =
        kind === "sqlite" ? new Date(Date.now() - 3_600_000).toISOString() : new Date(Date.now() - 3_600_000);
      await rp.db.query(`UPDATE "account" SET "accessTokenExpiresAt" = $1 WHERE "userId" = $2`, [
        past,
        row!.userId,
      ]);
      const before = rp.provider.presentedRefreshTokens.length;
      const tokens = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 ? kit2 : kit1).tokens.getAccessToken(row!.userId)),
      );
      expect(rp.provider.presentedRefreshTokens.length - before).toBe(1);
      expect(new Set(tokens).size).toBe(1);
      // The rotated refresh token is the one stored, and it refreshes again.
      await kit2.tokens.getAccessToken(row!.userId, { forceRefresh: true });
      expect(rp.provider.presentedRefreshTokens.length - before).toBe(2);
    } finally {
      await other.close();
    }
  });
});
