import type { AgentKitStorage } from "./storage/types.ts";

export interface ThrottleVerdict {
  allowed: boolean;
  /** Seconds until the current window ends (for `Retry-After`). */
  retryAfter: number;
}

/**
 * A fixed-window limit per key, counted in the agent's storage, so the limit holds across every process
 * sharing it (a per-process counter would multiply it by the process count).
 */
export class Throttle {
  constructor(
    private readonly storage: AgentKitStorage,
    private readonly limit: { max: number; windowSeconds: number },
  ) {}

  async hit(key: string): Promise<ThrottleVerdict> {
    const { count, retryAfter } = await this.storage.throttle(key, this.limit.windowSeconds);
    return { allowed: count <= this.limit.max, retryAfter: Math.max(1, retryAfter) };
  }
}
