import { fileURLToPath } from "node:url";
import type { MigrationSource } from "@amp/db";

/** agent-kit's tables (better-auth's user, session, account, verification). Pass to `migrate()` before your own. */
export const agentKitMigrations: MigrationSource = {
  name: "agent-kit",
  dir: fileURLToPath(new URL("../migrations/", import.meta.url)),
};
