import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/**
 * Standard Webhooks signing (https://www.standardwebhooks.com): `webhook-signature`
 * is `v1,<base64 HMAC-SHA256 over "<id>.<timestamp>.<body>">` keyed by the bytes
 * after `whsec_`. Several signatures are space-separated; during a secret
 * rotation's overlap both secrets sign, so a receiver holding either verifies.
 * Signing uses the published `standardwebhooks` package, the one receivers use.
 */
export const newSecret = () => `whsec_${randomBytes(32).toString("base64")}`;

export function signatureHeaders(
  id: string,
  body: string,
  secrets: string[],
  at: Date = new Date(),
): Record<string, string> {
  const timestamp = new Date(Math.floor(at.getTime() / 1000) * 1000);
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp.getTime() / 1000),
    "webhook-signature": secrets.map((secret) => new Webhook(secret).sign(id, timestamp, body)).join(" "),
  };
}

/** The secrets that sign now: the current one, plus the previous one while its overlap lasts. */
export function signingSecrets(
  endpoint: { secret: string; previousSecret: string | null; previousSecretExpiresAt: Date | null },
  now = new Date(),
): string[] {
  const previousLive =
    endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > now;
  return previousLive ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}
