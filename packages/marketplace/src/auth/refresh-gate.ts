import type { SqlClient } from "../db/database.ts";
import { readJson } from "../http/read-json.ts";
import { hashToken } from "./bearer.ts";

/**
 * Makes refresh-token rotation strict under concurrency (CONTRACT.md §2,
 * SECURITY-TESTS.md §C).
 *
 * The provider plugin checks "already rotated?" and then rotates, so two
 * requests racing with one token can both pass the check: one wins, the
 * loser fails without the reuse being treated as theft. This gate
 * - serialises refreshes of the same token within this process, so the
 *   second one sees the rotation (and, with a grace window, gets the replay);
 * - across processes, when a refresh fails with `invalid_grant` on a token
 *   that was rotated out, invalidates the family itself, as the plugin does
 *   for a sequential reuse.
 */
export class RefreshGate {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly sql: SqlClient,
    private readonly graceSeconds: number,
  ) {}

  async run(refreshToken: string, refresh: () => Promise<Response>): Promise<Response> {
    const key = hashToken(refreshToken);
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(refresh, refresh);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      const response = await current;
      if (response.status === 400 && this.graceSeconds === 0 && (await isInvalidGrant(response))) {
        await this.invalidateIfRotated(key);
      }
      return response;
    } finally {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }

  private async invalidateIfRotated(tokenHash: string) {
    const { rows } = await this.sql.query<{ clientId: string; userId: string }>(
      `SELECT "clientId", "userId" FROM "oauthRefreshToken" WHERE token = $1 AND revoked IS NOT NULL`,
      [tokenHash],
    );
    const family = rows[0];
    if (!family) return;
    await this.sql.query(
      `DELETE FROM "oauthAccessToken" WHERE "refreshId" IN
         (SELECT id FROM "oauthRefreshToken" WHERE "clientId" = $1 AND "userId" = $2)`,
      [family.clientId, family.userId],
    );
    await this.sql.query(`DELETE FROM "oauthRefreshToken" WHERE "clientId" = $1 AND "userId" = $2`, [
      family.clientId,
      family.userId,
    ]);
  }
}

async function isInvalidGrant(response: Response): Promise<boolean> {
  return (await readJson<{ error?: string }>(response))?.error === "invalid_grant";
}
