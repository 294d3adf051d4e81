import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  // biome-ignore lint/suspicious/noExplicitAny: tests read payloads loosely
  payload: any;
}

/**
 * A webhook endpoint for tests: records every request, answers `status`
 * (503 while "down"), and keeps the events it accepted once per id, as a
 * receiver that dedupes would.
 */
export async function startReceiver() {
  const requests: Received[] = [];
  const applied = new Map<string, Received>();
  let status = 204;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const received: Received = {
        id: String(req.headers["webhook-id"]),
        timestamp: String(req.headers["webhook-timestamp"]),
        signature: String(req.headers["webhook-signature"]),
        body,
        payload: JSON.parse(body),
      };
      requests.push(received);
      if (status < 300 && !applied.has(received.id)) applied.set(received.id, received);
      res.writeHead(status).end();
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/hooks/marketplace`,
    requests,
    applied,
    setStatus(next: number) {
      status = next;
    },
    /** True when `secret` verifies the request (standardwebhooks, the published library). */
    verifies(received: Received, secret: string) {
      try {
        new Webhook(secret).verify(received.body, {
          "webhook-id": received.id,
          "webhook-timestamp": received.timestamp,
          "webhook-signature": received.signature,
        });
        return true;
      } catch {
        return false;
      }
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export async function waitFor<T>(
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const value = await check();
    if (value) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}
