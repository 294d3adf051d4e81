import { Webhook, WebhookVerificationError } from "standardwebhooks";
import {
  type BrowserEvent,
  type MarketplaceEvent,
  MarketplaceEventSchema,
  type UserEventBus,
} from "./events.ts";
import type { WebhookLedger } from "./ledger.ts";

/** Larger bodies are refused before verification (the marketplace's events are a few KB). */
export const MAX_WEBHOOK_BODY_BYTES = 256 * 1024;

export interface WebhookOptions {
  /**
   * The endpoint's signing secrets (`whsec_…`), as the marketplace showed them. During a rotation give
   * both the new and the old one: a delivery verifies if any signature matches any secret.
   */
  secrets: string[];
  /**
   * Your logic, after the signature, idempotency and ordering checks passed and the user's caches were
   * dropped. `userId` is this agent's user for `event.data.sub` (null: the user never signed in here, or
   * an agent-wide event). Throwing answers 500 and the marketplace retries the delivery later.
   */
  onEvent?: (event: MarketplaceEvent, context: { userId: string | null }) => void | Promise<void>;
}

export interface ReceiverDeps {
  agentId: string;
  ledger: WebhookLedger;
  /** Drops what this process caches about the user (tier). */
  forgetUser: (userId: string) => void;
  bus: UserEventBus;
}

export type WebhookOutcome = "applied" | "duplicate" | "stale";

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });

/**
 * Receives the marketplace's events (Standard Webhooks): verifies the
 * signature and timestamp (5 minutes either way, the library's tolerance),
 * applies each event id once, drops stale sequence numbers, forgets the
 * user's cached tier, runs `onEvent`, and tells the user's open browser
 * streams. Framework-free: a Fetch Request in, a Response out.
 */
export class WebhookReceiver {
  private readonly verifiers: Webhook[];

  constructor(
    private readonly options: WebhookOptions,
    private readonly deps: ReceiverDeps,
  ) {
    if (!options.secrets.length)
      throw new Error("webhooks: at least one signing secret (whsec_…) is required");
    this.verifiers = options.secrets.map((secret) => {
      if (!secret.startsWith("whsec_")) throw new Error("webhooks: a signing secret starts with whsec_");
      return new Webhook(secret);
    });
  }

  async handle(request: Request): Promise<Response> {
    if (request.method !== "POST") return json(405, { error: "method_not_allowed" });
    const body = await readBounded(request);
    if (body === null) return json(413, { error: "payload_too_large" });
    const headers = {
      "webhook-id": request.headers.get("webhook-id") ?? "",
      "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
      "webhook-signature": request.headers.get("webhook-signature") ?? "",
    };
    if (!this.verified(body, headers)) return json(401, { error: "invalid_signature" });

    const parsed = MarketplaceEventSchema.safeParse(safeJson(body));
    if (!parsed.success || parsed.data.id !== headers["webhook-id"])
      return json(400, { error: "invalid_event" });
    const event = parsed.data;
    if (event.data.agentId !== this.deps.agentId) return json(400, { error: "wrong_agent" });

    const outcome = await this.apply(event);
    return json(200, { received: true, outcome });
  }

  private verified(body: string, headers: Record<string, string>): boolean {
    for (const verifier of this.verifiers) {
      try {
        verifier.verify(body, headers);
        return true;
      } catch (error) {
        if (!(error instanceof WebhookVerificationError)) throw error;
      }
    }
    return false;
  }

  private async apply(event: MarketplaceEvent): Promise<WebhookOutcome> {
    const { ledger } = this.deps;
    const claim = await ledger.claim({ id: event.id, sub: event.data.sub, sequence: event.data.sequence });
    if (claim !== "apply") return claim;
    try {
      const userId = event.data.sub ? await ledger.userIdOf(event.data.sub) : null;
      if (userId) this.deps.forgetUser(userId);
      await this.options.onEvent?.(event, { userId });
      if (userId) this.deps.bus.publish(userId, toBrowserEvent(event));
      return "applied";
    } catch (error) {
      await ledger.release(event.id);
      throw error;
    }
  }
}

const toBrowserEvent = (event: MarketplaceEvent): BrowserEvent => ({
  id: event.id,
  type: event.type,
  ...(event.data.subscription !== undefined ? { subscription: event.data.subscription } : {}),
  ...(event.data.addons !== undefined ? { addons: event.data.addons } : {}),
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

async function readBounded(request: Request): Promise<string | null> {
  if (!request.body) return "";
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  while (true) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > MAX_WEBHOOK_BODY_BYTES) {
      await reader.cancel();
      return null;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
