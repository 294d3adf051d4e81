import type { SqlClient } from "../db/database.ts";
import { readJson } from "../http/read-json.ts";
import { hashToken } from "./bearer.ts";

/**
 * Makes the token endpoint's one-time grants strict under concurrency
 * (CONTRACT.md §2, SECURITY-TESTS.md §A.21 and §C).
 *
 * The provider plugin checks "already used?" and then issues, so two
 * requests racing with one grant can interleave:
 * - two redemptions of one authorization code: the loser's reuse handling
 *   deletes the tokens the winner is still writing, and the winner fails
 *   with a foreign-key error (a 500) instead of a 200;
 * - two refreshes of one token: one wins, the loser fails without the
 *   reuse being treated as theft.
 *
 * This gate serialises requests presenting the same code or the same
 * refresh token within this process, so the second one sees the first one's
 * outcome: a replayed code is `invalid_grant` and revokes what the code
 * issued (RFC 6749 §4.1.2); a replayed refresh token gets the grace-window
 * replay or fails. Across processes, a refresh that fails with
 * `invalid_grant` on a token that was rotated out invalidates the family
 * itself, as the plugin does for a sequential reuse.
 */
export class GrantGate {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(
    private readonly sql: SqlClient,
    private readonly refreshGraceSeconds: number,
  ) {}

  redeemCode(code: string, exchange: () => Promise<Response>): Promise<Response> {
    return this.serialise(`code:${hashToken(code)}`, exchange);
  }

  async refresh(refreshToken: string, exchange: () => Promise<Response>): Promise<Response> {
    const tokenHash = hashToken(refreshToken);
    const response = await this.serialise(`refresh:${tokenHash}`, exchange);
    if (response.status === 400 && this.refreshGraceSeconds === 0 && (await isInvalidGrant(response))) {
      await this.invalidateIfRotated(tokenHash);
    }
    return response;
  }

  private async serialise(key: string, exchange: () => Promise<Response>): Promise<Response> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    const current = previous.then(exchange, exchange);
    const tail = current.catch(() => undefined);
    this.tails.set(key, tail);
    try {
      return await current;
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
