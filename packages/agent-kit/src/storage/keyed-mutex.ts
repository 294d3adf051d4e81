import { StorageLockTimeoutError } from "./types.ts";

/**
 * Named locks inside one process: `run(key, fn)` runs `fn` once every earlier holder of `key` is done.
 * Waiters queue in order; a waiter that gives up after `timeoutMs` leaves the queue without running.
 */
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    // The map holds a key only while someone holds or awaits it.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    let timer: NodeJS.Timeout | undefined;
    let timedOut = false;
    try {
      await Promise.race([
        previous,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => {
            timedOut = true;
            reject(new StorageLockTimeoutError(`Waited ${timeoutMs} ms for the lock ${key}`));
          }, timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
      // A waiter that timed out still hands its turn on (at once) when its predecessor finishes.
      if (timedOut) release();
    }
    try {
      return await fn();
    } finally {
      release();
    }
  }
}
