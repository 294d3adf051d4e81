import { LRUCache } from "lru-cache";

/**
 * The one in-memory cache type of agent-kit: at most `max` entries, least recently used evicted first, each
 * entry gone after `ttlMs` (or its own `ttl` at `set`). Every per-user or per-session memo uses it, so memory
 * stays bounded however many users an agent has.
 */
export type BoundedCache<K extends {}, V extends {}> = LRUCache<K, V>;

export function boundedCache<K extends {}, V extends {}>(opts: {
  max: number;
  ttlMs: number;
}): BoundedCache<K, V> {
  // ttlAutopurge off: expired entries are dropped when read or evicted, with no timer per entry.
  return new LRUCache<K, V>({ max: opts.max, ttl: opts.ttlMs, ttlAutopurge: false, updateAgeOnGet: false });
}
