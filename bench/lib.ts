import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import autocannon from "autocannon";

export const ROOT = new URL("..", import.meta.url).pathname;
export const TSX = join(ROOT, "node_modules/.bin/tsx");
const run = promisify(execFile);

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  /** Mean latency in ms, to the hundredth (p50 and p99 are whole milliseconds). */
  mean: number;
  errors: number;
  non2xx: number;
  ok: number;
}

/** Drives `url` from this process (separate from the server under test) for `seconds` at `connections`. */
export async function load(opts: {
  url: string;
  connections: number;
  seconds: number;
  method?: "GET" | "POST";
  headers?: Record<string, string>;
  body?: () => string;
  headersFor?: () => Record<string, string>;
}): Promise<LoadResult> {
  const result = await autocannon({
    url: opts.url,
    connections: opts.connections,
    duration: opts.seconds,
    method: opts.method ?? "GET",
    headers: opts.headers,
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          ...(opts.body ? { body: opts.body() } : {}),
          headers: { ...req.headers, ...opts.headers, ...(opts.headersFor ? opts.headersFor() : {}) },
        }),
      },
    ],
  });
  return {
    rps: Math.round(result.requests.average),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: Math.round(result.latency.mean * 100) / 100,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    ok: result["2xx"],
  };
}

const running = new Set<ChildProcess>();
// A run that fails half-way must not leave its servers holding the bench's ports.
process.once("exit", () => {
  for (const child of running) child.kill("SIGTERM");
});

/** A server process of ours, with its output kept for diagnosis. */
export function startProcess(
  args: string[],
  env: Record<string, string>,
): ChildProcess & { output: string[] } {
  const child = spawn(TSX, args, {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: "warn", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  }) as ChildProcess & {
    output: string[];
  };
  child.output = [];
  running.add(child);
  child.once("exit", () => running.delete(child));
  child.stdout!.on("data", (c) => child.output.push(String(c)));
  child.stderr!.on("data", (c) => child.output.push(String(c)));
  return child;
}

export async function waitFor(
  url: string,
  child?: { output: string[]; exitCode: number | null },
  seconds = 60,
) {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    if (child && child.exitCode !== null) throw new Error(`server exited:\n${child.output.join("")}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${seconds}s${child ? `:\n${child.output.join("")}` : ""}`);
}

export function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  child.kill("SIGTERM");
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** Resident set size of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, "utf8")
    .split("\n")
    .find((l) => l.startsWith("VmRSS:"));
  return Math.round(Number(line?.split(/\s+/)[1] ?? 0) / 1024);
}

/** The process actually serving: tsx runs the server in a child node process (Node 24 names its thread "MainThread"). */
export function serverPid(pid: number): number {
  const childrenOf = (parent: number) =>
    readdirSync("/proc")
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((p) => {
        try {
          // /proc/<pid>/stat: "pid (comm) state ppid ..." — comm may contain spaces, so split after the last ")".
          const stat = readFileSync(`/proc/${p}/stat`, "utf8");
          return (
            Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === parent &&
            !stat.includes("(esbuild)")
          );
        } catch {
          return false;
        }
      });
  let current = pid;
  for (let next = childrenOf(current); next.length; next = childrenOf(current)) current = next.at(-1)!;
  return current;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * pgbench running the project's own consume function at a given concurrency,
 * spread over `users` rows (or one hot row). Latencies come from its per-transaction log.
 * `perTransaction` > 1 runs that many consumes (each on a random row) in one transaction,
 * in counter-key order as the marketplace's group commit does: `rps` is then consumes per
 * second (transactions × perTransaction), and latencies are per transaction.
 */
export async function pgbench(opts: {
  url: string;
  agentId: string;
  users: number;
  connections: number;
  seconds: number;
  perTransaction?: number;
}) {
  const per = opts.perTransaction ?? 1;
  const dir = mkdtempSync(join(tmpdir(), "amp-pgbench-"));
  const script = join(dir, "consume.sql");
  const consume = (uid: string) =>
    `SELECT * FROM usage_consume('bench-user-' || ${uid}, '${opts.agentId}', 'messages', 1, gen_random_uuid()::text, NULL);`;
  writeFileSync(
    script,
    per === 1
      ? `\\set uid random(1, ${opts.users})\n${consume(":uid")}\n`
      : // One statement for the batch (one round trip), the users sorted so transactions cannot deadlock.
        `${Array.from({ length: per }, (_, i) => `\\set u${i} random(1, ${opts.users})`).join("\n")}\n` +
          `BEGIN;\nSELECT count(*) FROM (SELECT u FROM unnest(ARRAY[${Array.from({ length: per }, (_, i) => `:u${i}`).join(", ")}]) u ORDER BY u) s ` +
          `CROSS JOIN LATERAL usage_consume('bench-user-' || s.u, '${opts.agentId}', 'messages', 1, gen_random_uuid()::text, NULL) r;\nEND;\n`,
  );
  const url = new URL(opts.url);
  const { stdout } = await run(
    "pgbench",
    [
      "-n",
      "-M",
      "prepared",
      "-c",
      String(opts.connections),
      "-j",
      "2",
      "-T",
      String(opts.seconds),
      "-f",
      script,
      "-l",
      "--log-prefix",
      join(dir, "log"),
      "-h",
      url.hostname,
      "-p",
      url.port || "5432",
      "-U",
      url.username || "postgres",
      url.pathname.slice(1),
    ],
    { cwd: dir, maxBuffer: 10_000_000 },
  );
  const tps = Number(/tps = ([\d.]+)/.exec(stdout)?.[1] ?? 0);
  const latencies: number[] = [];
  for (const file of readdirSync(dir).filter((f) => f.startsWith("log"))) {
    for (const line of readFileSync(join(dir, file), "utf8").split("\n")) {
      const us = Number(line.split(" ")[2]);
      if (Number.isFinite(us) && line) latencies.push(us / 1000);
    }
  }
  latencies.sort((a, b) => a - b);
  return {
    rps: Math.round(tps * per),
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
  };
}

export const round = (n: number) => Math.round(n * 100) / 100;
