import { connect, createServer, type Server, type Socket } from "node:net";

/**
 * A small TCP proxy for fault tests, on 127.0.0.1 only. `cut()` drops every
 * connection and refuses new ones (an outage); `hang()` accepts and forwards
 * nothing (a stuck peer); `delay(ms)` holds each chunk back; `restore()` heals.
 */
export class TcpProxy {
  private server!: Server;
  private readonly sockets = new Set<Socket>();
  private mode: "pass" | "cut" | "hang" = "pass";
  private delayMs = 0;
  port = 0;

  constructor(
    private readonly targetPort: number,
    private readonly listenPort = 0,
    private readonly targetHost = "127.0.0.1",
  ) {}

  async start(): Promise<this> {
    this.server = createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server.listen(this.listenPort, "127.0.0.1", resolve));
    this.port = (this.server.address() as { port: number }).port;
    return this;
  }

  private accept(client: Socket) {
    if (this.mode === "cut") return void client.destroy();
    this.sockets.add(client);
    client.on("close", () => this.sockets.delete(client));
    client.on("error", () => {});
    if (this.mode === "hang") return;
    const upstream = connect(this.targetPort, this.targetHost);
    this.sockets.add(upstream);
    upstream.on("close", () => this.sockets.delete(upstream));
    upstream.on("error", () => client.destroy());
    client.on("error", () => upstream.destroy());
    const pipe = (from: Socket, to: Socket) =>
      from.on("data", (chunk) => {
        if (this.mode === "hang") return;
        if (this.delayMs) setTimeout(() => to.write(chunk), this.delayMs);
        else to.write(chunk);
      });
    pipe(client, upstream);
    pipe(upstream, client);
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  }

  /** Drops every open connection and refuses new ones. */
  cut() {
    this.mode = "cut";
    for (const socket of this.sockets) socket.destroy();
  }

  /** Accepts connections but forwards nothing, in either direction. */
  hang() {
    this.mode = "hang";
  }

  delay(ms: number) {
    this.delayMs = ms;
  }

  restore() {
    this.mode = "pass";
    this.delayMs = 0;
  }

  async close() {
    this.cut();
    await new Promise((resolve) => this.server.close(resolve));
  }
}
