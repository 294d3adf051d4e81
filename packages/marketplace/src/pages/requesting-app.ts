import { eq } from "drizzle-orm";
import type { Auth } from "../auth/auth.ts";
import type { Db } from "../db/database.ts";
import { agents } from "../db/schema.ts";
import type { RequestingApp } from "./auth-pages.tsx";

/**
 * Who is asking the user to sign in: the catalog agent whose OAuth client is
 * `clientId` (its name and icon), else the registered client's own name; null
 * for an unknown client.
 */
export async function requestingApp(
  db: Db,
  auth: Auth,
  clientId: string | null | undefined,
  headers?: Headers,
): Promise<RequestingApp | null> {
  if (!clientId) return null;
  const [agent] = await db
    .select({ name: agents.name, iconUrl: agents.iconUrl })
    .from(agents)
    .where(eq(agents.oauthClientId, clientId))
    .limit(1);
  if (agent) return agent;
  const client = await auth.api
    .getOAuthClientPublic({ query: { client_id: clientId }, headers: headers ?? new Headers() })
    .catch(() => null);
  return client ? { name: client.client_name ?? clientId, iconUrl: null } : null;
}
