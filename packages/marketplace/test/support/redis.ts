import { createConnection } from "node:net";

export const TEST_REDIS_URL = "redis://127.0.0.1:6379";

/**
 * Whether the test Redis answers. Suites gate on `redisUp || process.env.CI`: CI has Redis, so there a
 * Redis suite runs (and fails if Redis is missing) instead of skipping.
 */
export const redisUp = await new Promise<boolean>((resolve) => {
  const url = new URL(TEST_REDIS_URL);
  const socket = createConnection({ host: url.hostname, port: Number(url.port) });
  const done = (up: boolean) => {
    socket.destroy();
    resolve(up);
  };
  socket.once("connect", () => done(true)).once("error", () => done(false));
  socket.setTimeout(1_000, () => done(false));
});
