import { randomUUID } from "node:crypto";
import type { KeyedLocks } from "@amp/db";
import type { Jwk } from "better-auth/plugins";
import type { SqlClient } from "../db/database.ts";

interface JwkRow {
  id: string;
  publicKey: string;
  privateKey: string;
  createdAt: Date | string;
  expiresAt: Date | string | null;
  alg: string | null;
  crv: string | null;
}

const toJwk = (row: JwkRow): Jwk => ({
  id: row.id,
  publicKey: row.publicKey,
  privateKey: row.privateKey,
  createdAt: new Date(row.createdAt),
  ...(row.expiresAt ? { expiresAt: new Date(row.expiresAt) } : {}),
  ...(row.alg ? { alg: row.alg as Jwk["alg"] } : {}),
  ...(row.crv ? { crv: row.crv as Jwk["crv"] } : {}),
});

/**
 * The jwt plugin's key store (its `adapter` option), so that key creation and
 * rotation have one winner across instances.
 *
 * The plugin creates a key lazily whenever it finds no live one (first JWKS
 * request, first signature, rotation after `expiresAt`), and every instance
 * that notices at the same moment would create its own. Creation here takes a
 * database lock and re-reads under it: the first creator inserts, everyone
 * else gets the key the first one made. Reads always go to the database, so
 * every instance serves the same JWKS.
 */
export function signingKeyStore(sql: SqlClient, locks: KeyedLocks) {
  return {
    getJwks: async (): Promise<Jwk[]> =>
      (await sql.query<JwkRow>(`SELECT * FROM "jwks" ORDER BY "createdAt"`)).rows.map(toJwk),

    createJwk: (key: Omit<Jwk, "id">): Promise<Jwk> =>
      locks.hold(async (lock) => {
        await lock("jwks:create");
        const live = await sql.query<JwkRow>(
          `SELECT * FROM "jwks"
            WHERE ("expiresAt" IS NULL OR "expiresAt" > now()) AND alg IS NOT DISTINCT FROM $1
            ORDER BY "createdAt" DESC LIMIT 1`,
          [key.alg ?? null],
        );
        if (live.rows[0]) return toJwk(live.rows[0]);
        const created = await sql.query<JwkRow>(
          `INSERT INTO "jwks" (id, "publicKey", "privateKey", "createdAt", "expiresAt", alg, crv)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *`,
          [
            randomUUID(),
            key.publicKey,
            key.privateKey,
            key.createdAt ?? new Date(),
            key.expiresAt ?? null,
            key.alg ?? null,
            key.crv ?? null,
          ],
        );
        return toJwk(created.rows[0]!);
      }),
  };
}
