import { ConsumeBodySchema, ReleaseBodySchema } from "@amp/contract";
import { eq } from "drizzle-orm";
import { type Context, Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import type { Db } from "../db/database.ts";
import { agents } from "../db/schema.ts";
import { ApiError } from "../http/api-error.ts";
import { ok } from "../http/envelope.ts";
import { jsonBody } from "../http/validate.ts";
import type { UsageService } from "./service.ts";

/**
 * `/me/agents/:agentId/usage`: consume, release and read usage.
 * A bearer token only meters the agent it was issued to: agent A cannot
 * spend (or read) the user's quota in agent B.
 */
export function usageRoutes(db: Db, usage: UsageService) {
  const app = new Hono<AppEnv>();
  const clientOfAgent = new Map<string, string | null>();

  async function caller(c: Context<AppEnv>) {
    const principal = c.get("principal")!;
    const agentId = c.req.param("agentId")!;
    if (principal.clientId) {
      let clientId = clientOfAgent.get(agentId);
      if (clientId === undefined) {
        const [row] = await db
          .select({ clientId: agents.oauthClientId })
          .from(agents)
          .where(eq(agents.id, agentId))
          .limit(1);
        clientId = row?.clientId ?? null;
        // The client of an agent never changes, so a positive answer is cached for the process's life.
        if (clientId) clientOfAgent.set(agentId, clientId);
      }
      if (clientId !== principal.clientId) {
        throw new ApiError("FORBIDDEN", "This access token was issued to another agent.");
      }
    }
    return {
      userId: principal.userId,
      agentId,
      metricSlug: c.req.param("metricSlug") ?? "",
      tokenHash: principal.tokenHash,
    };
  }

  app.post("/:agentId/usage/:metricSlug/consume", async (c) => {
    const body = await jsonBody(c, ConsumeBodySchema);
    const { result, replayed } = await usage.consume(await caller(c), body);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return ok(c, result);
  });
  app.post("/:agentId/usage/:metricSlug/release", async (c) => {
    const body = await jsonBody(c, ReleaseBodySchema);
    const { result, replayed } = await usage.release(await caller(c), body);
    if (replayed) c.header("Idempotent-Replayed", "true");
    return ok(c, result);
  });
  app.get("/:agentId/usage", async (c) => {
    const { userId, agentId } = await caller(c);
    return ok(c, await usage.usage(userId, agentId));
  });
  app.get("/:agentId/usage/:metricSlug", async (c) => {
    const { userId, agentId, metricSlug } = await caller(c);
    return ok(c, (await usage.usage(userId, agentId, metricSlug))[0]);
  });
  return app;
}
