import { once } from "node:events";
import { createServer, type IncomingMessage, request, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * The load balancer in front of the instances: round robin over HTTP, on
 * 127.0.0.1. A backend that refuses a connection is skipped for a second and
 * the request goes to the next one (bodies are buffered, so that is safe);
 * an error after the request went out is a 502, as a real balancer answers.
 */
export class RoundRobinProxy {
  backends: number[] = [];
  port = 0;
  private next = 0;
  private readonly downUntil = new Map<number, number>();
  private server!: Server;

  async start(): Promise<this> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.listen(0, "127.0.0.1");
    await once(this.server, "listening");
    this.port = (this.server.address() as AddressInfo).port;
    return this;
  }

  private pick(): number | undefined {
    const now = Date.now();
    for (let i = 0; i < this.backends.length; i++) {
      const port = this.backends[this.next++ % this.backends.length]!;
      if ((this.downUntil.get(port) ?? 0) <= now) return port;
    }
    return undefined;
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    for (let attempt = 0; attempt < this.backends.length; attempt++) {
      const port = this.pick();
      if (port === undefined) break;
      const outcome = await this.forward(port, req, body, res);
      if (outcome !== "refused") return;
      this.downUntil.set(port, Date.now() + 1_000);
    }
    if (!res.headersSent) res.writeHead(502).end();
  }

  private forward(port: number, req: IncomingMessage, body: Buffer, res: ServerResponse) {
    return new Promise<"done" | "refused">((resolve) => {
      const upstream = request(
        { host: "127.0.0.1", port, method: req.method, path: req.url, headers: req.headers },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
          answer.on("end", () => resolve("done"));
          answer.on("error", () => {
            res.destroy();
            resolve("done");
          });
        },
      );
      upstream.on("error", (error: NodeJS.ErrnoException) => {
        if (error.code === "ECONNREFUSED") return resolve("refused");
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
        resolve("done");
      });
      upstream.end(body);
    });
  }

  async close() {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
