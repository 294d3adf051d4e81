import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";

/** The KEY=value lines `marketplace dev` prints once it is ready (src/dev.ts). */
export const DEV_ENV_KEYS = [
  "MARKETPLACE_API_URL",
  "MARKETPLACE_ISSUER",
  "OAUTH_CLIENT_ID",
  "AGENT_ID",
  "AGENT_SLUG",
  "DEMO_USER_EMAIL",
  "DEMO_USER_PASSWORD",
  "DEMO_ADMIN_EMAIL",
  "DEMO_ADMIN_PASSWORD",
] as const;
export type DevEnv = Record<(typeof DEV_ENV_KEYS)[number], string>;

export interface DevProcess {
  env: DevEnv;
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  stop(): Promise<void>;
}

/**
 * Runs `marketplace dev` (however `command` starts it: tsx on the sources, or `npx marketplace` from an
 * installed tarball) and resolves with the env block it prints. Fails with its output if it exits first.
 */
export function startDev(
  command: string,
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<DevProcess> {
  // Its own process group: `npx` runs the bin as a grandchild that a signal to npx alone would orphan.
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  let out = "";
  let err = "";
  child.stdout.on("data", (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    err += chunk.toString();
  });
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    try {
      process.kill(-child.pid!, "SIGTERM"); // the whole group: npx, npm exec, the marketplace
    } catch {
      child.kill("SIGTERM");
    }
    await exited;
    // Until every process of the group is gone (the marketplace closes its database on SIGTERM), at most 15 s.
    for (const deadline = Date.now() + 15_000; Date.now() < deadline; ) {
      try {
        process.kill(-child.pid!, 0);
      } catch {
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`marketplace dev did not print its env in time\n${out}\n${err}`));
    }, options.timeoutMs ?? 90_000);
    const check = () => {
      const env = parseEnvLines(out);
      if (DEV_ENV_KEYS.every((k) => k in env)) {
        clearTimeout(timer);
        child.stdout.off("data", check);
        resolve({ env: env as DevEnv, child, stdout: () => out, stderr: () => err, stop });
      }
    };
    child.stdout.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`marketplace dev exited with ${code}\n${out}\n${err}`));
    });
  });
}

export function parseEnvLines(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}
