import { fileURLToPath } from "node:url";
import { type AgentKitStorage, createAgentKit, type MarketplaceObserver } from "@amp/agent-kit";
import { pgliteStorage } from "@amp/agent-kit/pglite";
import { postgresStorage } from "@amp/agent-kit/postgres";
import { type Connection, connect, type DatabaseTarget, migrate } from "@amp/db";
import type { AgentConfig } from "./config.ts";

/** The agent's own migrations (its tables reference agent-kit's "user", created first by the kit). */
export const MIGRATIONS = { name: "agent", dir: fileURLToPath(new URL("../migrations/", import.meta.url)) };

/** agent-kit's storage on the agent's own database connection (the same PGlite, or the same pool). */
export function kitStorage(database: Connection): AgentKitStorage {
  return database.driver.kind === "pglite"
    ? pgliteStorage(database.driver.pglite)
    : postgresStorage(database.driver.pool);
}

/** Opens the agent's database, creates its kit (which creates agent-kit's tables), then migrates the agent's. */
export async function openAgent(
  config: AgentConfig,
  target: DatabaseTarget = config.database,
  observer?: MarketplaceObserver,
) {
  const database = await connect(target);
  try {
    const storage = kitStorage(database);
    // createAgentKit creates agent-kit's tables; the agent's come after (they reference its "user" table).
    const kit = await createAgentKit({
      marketplaceUrl: config.marketplaceUrl,
      ...(config.marketplaceInternalUrl ? { marketplaceInternalUrl: config.marketplaceInternalUrl } : {}),
      allowInsecureMarketplace: config.env !== "production",
      agentId: config.agentId,
      agentSlug: config.agentSlug,
      clientId: config.clientId,
      baseURL: config.backendUrl,
      secret: config.secret,
      storage,
      ...(observer ? { observer } : {}),
      ...(config.frontendOrigin
        ? { cookieMode: "cross-origin" as const, frontendOrigin: config.frontendOrigin }
        : {}),
    });
    await migrate(database.sql, [MIGRATIONS]);
    return { database, kit };
  } catch (error) {
    await database.close();
    throw error;
  }
}
