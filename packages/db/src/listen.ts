import type { PGlite } from "@electric-sql/pglite";
import pg from "pg";

export interface Subscription {
  /** Called with each notification's payload. */
  onMessage(payload: string): void;
  /**
   * Called whenever notifications may have been missed (the connection dropped
   * and came back): whoever caches on the strength of notifications must drop
   * the cache.
   */
  onGap(): void;
}

export type Unlisten = () => Promise<void>;

const CHANNEL = /^[a-z_][a-z0-9_]*$/;

function assertChannel(channel: string) {
  if (!CHANNEL.test(channel)) throw new Error(`invalid channel name: ${channel}`);
}

/**
 * LISTEN on a dedicated, non-pooled connection (a pooled one would lose its
 * LISTEN when recycled) that reconnects with backoff after any failure.
 */
export async function listenPostgres(url: string, channel: string, sub: Subscription): Promise<Unlisten> {
  assertChannel(channel);
  let stopped = false;
  let client: pg.Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let delay = 100;

  const connect = async (first: boolean): Promise<void> => {
    const c = new pg.Client({ connectionString: url, keepAlive: true });
    c.on("error", () => {});
    c.on("notification", (n) => {
      if (n.channel === channel) sub.onMessage(n.payload ?? "");
    });
    c.on("end", () => {
      if (stopped || client !== c) return;
      client = undefined;
      sub.onGap();
      schedule();
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (error) {
      await c.end().catch(() => {});
      if (first) throw error;
      schedule();
      return;
    }
    if (stopped) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    delay = 100;
    // Whatever was sent while we were away is lost.
    if (!first) sub.onGap();
  };
  const schedule = () => {
    if (stopped || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      void connect(false);
    }, delay);
    retry.unref();
    delay = Math.min(delay * 2, 5_000);
  };

  await connect(true);
  return async () => {
    stopped = true;
    if (retry) clearTimeout(retry);
    const c = client;
    client = undefined;
    await c?.end().catch(() => {});
  };
}

/** PGlite delivers its own notifications in process. */
export async function listenPglite(pglite: PGlite, channel: string, sub: Subscription): Promise<Unlisten> {
  assertChannel(channel);
  const unsubscribe = await pglite.listen(channel, (payload) => sub.onMessage(payload));
  return async () => {
    if (!pglite.closed) await unsubscribe();
  };
}
