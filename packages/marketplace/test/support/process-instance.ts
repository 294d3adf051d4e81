import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const CLI = new URL("../../src/cli.ts", import.meta.url).pathname;

export interface MarketplaceProcess {
  url: string;
  stop(): Promise<void>;
}

/**
 * Starts `marketplace serve` in a child process: a second instance that
 * shares nothing in memory with the test's own, as behind a load balancer.
 * Without DATABASE_URL in `env` it gets its own embedded database.
 */
export async function startMarketplaceProcess(env: Record<string, string>): Promise<MarketplaceProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "amp-instance-"));
  const { DATABASE_URL: _db, TEST_DATABASE_URL: _test, ...inherited } = process.env;
  const child = spawn(process.execPath, ["--import", "tsx", CLI, "serve"], {
    env: {
      ...inherited,
      NODE_ENV: "test",
      MARKETPLACE_PORT: "0",
      MARKETPLACE_HOST: "127.0.0.1",
      MARKETPLACE_DATA_DIR: dataDir,
      LOG_LEVEL: "warn",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      await once(child, "exit");
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    return { url: await readyUrl(child), stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

function readyUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const url = /Marketplace ready at (\S+)/.exec(out)?.[1];
      if (url) resolve(url);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
    });
    child.once("exit", (code) => reject(new Error(`marketplace process exited (${code}): ${err || out}`)));
  });
}
