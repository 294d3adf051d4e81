import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer } from "node:net";
import { serverPid, startProcess, stopProcess, waitFor } from "../../../../bench/lib.ts";
import { type Database, openDatabase } from "../../src/db/database.ts";
import { testDatabase } from "../support/database.ts";
import { RoundRobinProxy } from "./round-robin-proxy.ts";

export interface Instance {
  name: string;
  url: string;
  issuer: string;
  process: ChildProcess & { output: string[] };
}

async function freePort(): Promise<number> {
  const server = createServer().listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * N marketplace instances as real processes (`cli.ts serve`), started at the
 * same moment on one empty PostgreSQL database, with one issuer and one
 * secret, behind a round-robin proxy: the production shape on one machine.
 */
export async function startCluster(size = 3, env: Record<string, string> = {}) {
  const target = await testDatabase();
  const databaseUrl = target.env.DATABASE_URL;
  if (!databaseUrl) throw new Error("the multi-instance suite needs TEST_DATABASE_URL");
  const proxy = await new RoundRobinProxy().start();
  const baseUrl = `http://127.0.0.1:${proxy.port}`;
  const secret = randomBytes(32).toString("base64url");
  const ports = await Promise.all(Array.from({ length: size }, freePort));
  const instances: Instance[] = ports.map((port, i) => ({
    name: String.fromCharCode(65 + i),
    url: `http://127.0.0.1:${port}`,
    issuer: `http://127.0.0.1:${port}/api/auth`,
    process: startProcess(["packages/marketplace/src/cli.ts", "serve"], {
      NODE_ENV: "test",
      MARKETPLACE_PORT: String(port),
      MARKETPLACE_HOST: "127.0.0.1",
      MARKETPLACE_BASE_URL: baseUrl,
      DATABASE_URL: databaseUrl,
      DATABASE_POOL_SIZE: "6",
      AUTH_SECRET: secret,
      RATE_LIMIT: "off",
      ...env,
    }),
  }));
  let db: Database | undefined;
  const close = async () => {
    // A process killed by a signal has no exit code, but it is gone all the same.
    await Promise.all(
      instances.filter((i) => i.process.signalCode === null).map((i) => stopProcess(i.process)),
    );
    await proxy.close();
    await db?.close();
    await target.drop();
  };
  try {
    await Promise.all(instances.map((i) => waitFor(`${i.url}/ready`, i.process, 90)));
  } catch (error) {
    await close();
    throw error;
  }
  proxy.backends = ports;
  db = await openDatabase({ url: databaseUrl });
  return {
    baseUrl,
    issuer: `${baseUrl}/api/auth`,
    instances,
    db,
    /** SIGKILL the process that serves (tsx runs it as a child), then the wrapper. */
    kill(instance: Instance) {
      process.kill(serverPid(instance.process.pid!), "SIGKILL");
      instance.process.kill("SIGKILL");
    },
    close,
  };
}

export type Cluster = Awaited<ReturnType<typeof startCluster>>;
