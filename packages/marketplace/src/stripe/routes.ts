import { Hono } from "hono";
import { InvalidSignatureError, type StripeWebhooks } from "./webhooks.ts";

/** `POST /webhooks/stripe`: raw body, Stripe-Signature verified; answers Stripe's plain JSON, not the envelope. */
export function stripeWebhookRoutes(webhooks: StripeWebhooks) {
  const app = new Hono();
  app.post("/stripe", async (c) => {
    if (!webhooks.configured) return c.json({ error: "Stripe webhooks are not configured" }, 503);
    const raw = await c.req.text();
    try {
      const { duplicate, processed } = await webhooks.receive(raw, c.req.header("stripe-signature"));
      return c.json({ received: true, duplicate, processed });
    } catch (error) {
      if (error instanceof InvalidSignatureError) return c.json({ error: "invalid signature" }, 400);
      throw error;
    }
  });
  return app;
}
