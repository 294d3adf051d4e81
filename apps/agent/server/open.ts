import { fileURLToPath } from "node:url";
import { agentKitMigrations, createAgentKit } from "@amp/agent-kit";
import { connect, type DatabaseTarget, migrate } from "@amp/db";
import type { AgentConfig } from "./config.ts";

/** The agent's own migrations (after agent-kit's). */
export const MIGRATIONS = { name: "agent", dir: fileURLToPath(new URL("../migrations/", import.meta.url)) };

/** Opens and migrates the agent's database (agent-kit's tables, then the agent's) and creates its kit. */
export async function openAgent(config: AgentConfig, target: DatabaseTarget = config.database) {
  const database = await connect(target);
  await migrate(database.sql, [agentKitMigrations, MIGRATIONS]);
  const kit = await createAgentKit({
    marketplaceUrl: config.marketplaceUrl,
    allowInsecureMarketplace: config.env !== "production",
    agentId: config.agentId,
    agentSlug: config.agentSlug,
    clientId: config.clientId,
    baseURL: config.backendUrl,
    secret: config.secret,
    database,
    ...(config.frontendOrigin
      ? { cookieMode: "cross-origin" as const, frontendOrigin: config.frontendOrigin }
      : {}),
  });
  return { database, kit };
}
