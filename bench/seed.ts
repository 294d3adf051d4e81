import { createHash, randomBytes } from "node:crypto";
import { createAgent } from "../packages/marketplace/src/catalog/service.ts";
import type { Database } from "../packages/marketplace/src/db/database.ts";
import { createMetric, createTier, setQuota } from "../packages/marketplace/src/pricing/service.ts";

export const USERS = 1_000;
const hash = (token: string) => createHash("sha256").update(token).digest("base64url");

/**
 * Seeds the consume benchmark straight into the database: an agent with an
 * unlimited rolling `messages` metric, USERS subscribed users
 * (`bench-user-<n>`), and an access token per user issued to the agent.
 */
export async function seedBench(database: Database, agentOrigin: string) {
  const agent = await createAgent(
    database.db,
    {
      name: "Bench Agent",
      slug: `bench-${Date.now().toString(36)}`,
      tagline: null,
      description: null,
      longDescription: null,
      iconUrl: null,
      photoUrls: [],
      status: "active",
      featured: false,
      isNew: false,
      productDomain: agentOrigin,
      docsUrl: null,
      changelogUrl: null,
      redirectUris: [`${agentOrigin}/api/auth/oauth2/callback/marketplace`],
      postLogoutRedirectUris: [],
    },
    null,
  );
  const tier = await createTier(database.db, { payments: null, devCheckout: true }, agent.id, {
    tierName: "Free",
    isFree: true,
    price: "0.00",
    currency: "USD",
    billingInterval: "month",
    featuresIncluded: [],
    recommended: false,
    trialDays: 0,
    sortOrder: 0,
  });
  const metric = await createMetric(database.db, agent.id, {
    slug: "messages",
    displayName: "Messages",
    unit: "messages",
    kind: "rolling",
  });
  await setQuota(database.db, agent.id, tier.id, metric.id, null);
  const { sql } = database;
  await sql.query(
    `INSERT INTO "user" ("id", "name", "email", "emailVerified", "createdAt", "updatedAt", "role")
     SELECT 'bench-user-' || g, 'Bench ' || g, 'bench' || g || '@example.com', true, now(), now(), 'org_member' FROM generate_series(1, $1) g`,
    [USERS],
  );
  await sql.query(
    `INSERT INTO "user_agent_subscriptions" ("id", "userId", "agentId", "tierId", "status")
     SELECT gen_random_uuid()::text, 'bench-user-' || g, $1, $2, 'active' FROM generate_series(1, $3) g`,
    [agent.id, tier.id, USERS],
  );
  const tokens = Array.from({ length: USERS }, () => randomBytes(24).toString("base64url"));
  await sql.query(
    `INSERT INTO "oauthAccessToken" ("id", "token", "clientId", "userId", "scopes", "expiresAt", "createdAt")
     SELECT gen_random_uuid()::text, t.token, $1, 'bench-user-' || t.n, '["openid"]'::jsonb, now() + interval '1 day', now()
       FROM unnest($2::text[]) WITH ORDINALITY AS t(token, n)`,
    [agent.oauthClientId, tokens.map(hash)],
  );
  return { agent, tokens };
}

/** Over-spend check: every counter equals its ledger sum, and the ledger holds exactly the acknowledged consumes. */
export async function overSpend(database: Database, agentId: string, acknowledged: number) {
  const { rows } = await database.sql.query<{
    ledger_rows: string;
    ledger_sum: string;
    counter_sum: string;
    duplicate_rows: string;
  }>(
    `SELECT (SELECT count(*) FROM usage_ledger WHERE "agentId" = $1) AS ledger_rows,
            (SELECT count(*) FROM (SELECT 1 FROM usage_ledger WHERE "agentId" = $1 GROUP BY "clientReqId" HAVING count(*) > 1) d) AS duplicate_rows,
            (SELECT coalesce(sum(delta), 0) FROM usage_ledger WHERE "agentId" = $1) AS ledger_sum,
            (SELECT coalesce(sum(c.used), 0) FROM usage_counters c JOIN user_agent_subscriptions s ON s.id = c."subscriptionId" WHERE s."agentId" = $1) AS counter_sum`,
    [agentId],
  );
  const r = rows[0]!;
  return {
    ledgerRows: Number(r.ledger_rows),
    counterMinusLedger: Number(r.counter_sum) - Number(r.ledger_sum),
    ledgerMinusAcknowledged: Number(r.ledger_rows) - acknowledged,
    /** clientReqIds applied more than once (the ledger's UNIQUE constraint makes this 0; checked all the same). */
    duplicateRows: Number(r.duplicate_rows),
  };
}
