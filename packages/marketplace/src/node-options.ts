/**
 * Node flags every marketplace server process is started with (scripts/stack.ts, bench/, the Dockerfile).
 *
 * `--max-semi-space-size=16`: on a machine with several GB of memory V8 lets the young generation grow
 * to 2 × 64 MB under load and keeps it; a heap snapshot after the consume benchmark showed ~72 MB of
 * live objects but 134 MB reserved for new space (RSS 330–440 MB). Capping each semi-space at 16 MB
 * brings RSS after the same load to ~240 MB with no measurable change in throughput (issue 13).
 * Put before any NODE_OPTIONS already set: V8 takes the last value of a repeated flag, so an operator's own
 * setting wins (for example `--max-old-space-size=256`, which holds RSS under 250 MB after the consume
 * benchmark at the price of more full collections: see the README's benchmarks).
 */
export const MARKETPLACE_NODE_FLAGS = "--max-semi-space-size=16";

export function marketplaceNodeOptions(existing: string | undefined = process.env.NODE_OPTIONS): string {
  return [MARKETPLACE_NODE_FLAGS, existing].filter(Boolean).join(" ");
}
