/**
 * Node flags every server process is started with: the marketplace and the reference agent (scripts/stack.ts,
 * bench/, both Dockerfiles).
 *
 * `--max-semi-space-size=16`: on a machine with several GB of memory V8 lets the young generation grow
 * to 2 × 64 MB under load and keeps it; a heap snapshot after the consume benchmark showed ~72 MB of
 * live objects but 134 MB reserved for new space (RSS 330–440 MB). Capping each semi-space at 16 MB
 * brings RSS after the same load to ~240 MB with no measurable change in throughput (issue 13). The reference
 * agent is the same kind of process (an HTTP server allocating per request): the bench's agent went from 434 to
 * ~340 MB after its runs with the flag.
 * Put before any NODE_OPTIONS already set: V8 takes the last value of a repeated flag, so an operator's own
 * setting wins (for example `--max-old-space-size=256`, which holds RSS under 250 MB after the consume
 * benchmark at the price of more full collections: see the README's benchmarks).
 */
export const SERVER_NODE_FLAGS = "--max-semi-space-size=16";

export function serverNodeOptions(existing: string | undefined = process.env.NODE_OPTIONS): string {
  return [SERVER_NODE_FLAGS, existing].filter(Boolean).join(" ");
}
