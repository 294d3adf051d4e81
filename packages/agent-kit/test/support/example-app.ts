// The README quick start, as a test fixture: an Express agent backend using agent-kit.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express from "express";
import { expressAdapter } from "../../src/express.ts";
import { type AgentKit, type AgentKitOptions, createAgentKit, type WebhookOptions } from "../../src/index.ts";

/** Starts listening first (the callback URL needs the port), then builds the kit and the app. */
export async function listen(): Promise<{ server: Server; url: string }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

export async function exampleAgent(
  server: Server,
  options: AgentKitOptions,
  webhooks?: WebhookOptions,
): Promise<AgentKit> {
  const kit = await createAgentKit(options);
  const mp = expressAdapter(kit);
  const app = express();
  app.use(mp.router());
  // The marketplace's pushed events (docs/agent-events.md), before any body parser.
  if (webhooks) app.use(mp.webhooks(webhooks));
  app.use(express.json());
  app.post("/api/chat", mp.requireUser(), mp.chargeable("messages"), (_req, res) => {
    res.json({ answer: "42", remaining: res.locals.charge!.remaining });
  });
  app.delete(
    "/api/kb/:id",
    mp.requireUser(),
    mp.marketplaceRoute(async (req, res, user) => {
      await kit.client(user.id).release("knowledge-bases", 1, { clientReqId: `release-${req.params.id}` });
      res.json({ deleted: true });
    }),
  );
  app.get(
    "/api/voice",
    mp.requireUser(),
    mp.marketplaceRoute(
      async (_req, res, user) => void res.json({ voice: await kit.client(user.id).feature("voice") }),
    ),
  );
  app.get("/", mp.requireUser(), (_req, res) => void res.send(`hello ${res.locals.user!.name}`));
  server.on("request", app);
  return kit;
}
