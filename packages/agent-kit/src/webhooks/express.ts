import type { RequestHandler } from "express";
import { Router } from "express";
import type { AgentKit } from "../kit.ts";
import type { BrowserEvent } from "./events.ts";
import type { WebhookOptions } from "./receiver.ts";

/** Where the marketplace delivers unless told otherwise (register `<baseURL>` + this as the endpoint). */
export const DEFAULT_WEBHOOK_PATH = "/api/marketplace/webhooks";
/** The signed-in browser's event stream. */
export const USER_EVENTS_PATH = "/api/me/events";
const HEARTBEAT_MS = 25_000;

type ToFetch = (req: Parameters<RequestHandler>[0]) => Request;
type SendFetch = (res: Parameters<RequestHandler>[1], response: Response) => Promise<void>;

/**
 * The Express side of `kit.webhooks`: `POST <path>` receives the marketplace's
 * events (mount it before any body parser: the signature covers the raw
 * bytes), and `GET /api/me/events` streams the signed-in user's events to
 * the browser as Server-Sent Events (agent-kit/react's `useMarketplaceEvents`).
 */
export function webhookRouter(
  kit: AgentKit,
  options: WebhookOptions & { path?: string },
  adapter: { requireUser: () => RequestHandler; toFetch: ToFetch; sendFetch: SendFetch },
) {
  const receiver = kit.webhookReceiver(options);
  const r = Router();
  r.post(options.path ?? DEFAULT_WEBHOOK_PATH, async (req, res, next) => {
    try {
      if (req.readableEnded || (req as { body?: unknown }).body !== undefined)
        throw new Error("webhooks: a body parser ran before the webhook route; mount mp.webhooks() first");
      await adapter.sendFetch(res, await receiver.handle(adapter.toFetch(req)));
    } catch (error) {
      next(error);
    }
  });
  r.get(USER_EVENTS_PATH, adapter.requireUser(), (req, res) => {
    const user = res.locals.user!;
    res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-store",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": connected\n\n");
    const send = (event: BrowserEvent) =>
      res.write(`id: ${event.id}\nevent: marketplace\ndata: ${JSON.stringify(event)}\n\n`);
    const unsubscribe = kit.userEvents.subscribe(user.id, send);
    const heartbeat = setInterval(() => res.write(": keep-alive\n\n"), HEARTBEAT_MS);
    heartbeat.unref();
    req.on("close", () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
  return r;
}
