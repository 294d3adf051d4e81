import { createHmac, timingSafeEqual } from "node:crypto";

export interface DevCheckoutIntent {
  userId: string;
  agentId: string;
  tierId: string;
  returnUrl: string;
}

/**
 * The development checkout: with no Stripe key outside production, a paid
 * tier's checkout goes to a marketplace page that says plainly that no
 * payment is taken and activates the subscription on confirm. The intent
 * travels in an HMAC-signed, short-lived token, so nothing is stored and the
 * page cannot be pointed at another user, tier or return URL.
 */
export class DevCheckout {
  constructor(
    private readonly baseUrl: string,
    private readonly secret: string,
    private readonly ttlMs = 30 * 60_000,
  ) {}

  urlFor(intent: DevCheckoutIntent): string {
    const payload = Buffer.from(JSON.stringify({ ...intent, exp: Date.now() + this.ttlMs })).toString(
      "base64url",
    );
    return `${this.baseUrl}/dev-checkout?token=${payload}.${this.sign(payload)}`;
  }

  /** The intent of a valid, unexpired token; null otherwise. */
  read(token: string | undefined): DevCheckoutIntent | null {
    const [payload, signature] = (token ?? "").split(".");
    if (!payload || !signature) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    const intent = JSON.parse(Buffer.from(payload, "base64url").toString()) as DevCheckoutIntent & {
      exp: number;
    };
    if (intent.exp < Date.now()) return null;
    return {
      userId: intent.userId,
      agentId: intent.agentId,
      tierId: intent.tierId,
      returnUrl: intent.returnUrl,
    };
  }

  private sign(payload: string) {
    return createHmac("sha256", `dev-checkout:${this.secret}`).update(payload).digest("base64url");
  }
}
