import { describe, expect, it } from "vitest";
import { GroupCommit } from "../src/usage/group-commit.ts";

/** A unit whose completion the test controls. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

function recorder(opts: {
  maxBatch?: number;
  maxInFlight?: number;
  failBatch?: (items: number[]) => boolean;
}) {
  const batches: number[][] = [];
  const alone: number[] = [];
  const runs: [number, boolean][] = [];
  let hold: Promise<void> = Promise.resolve();
  const gc = new GroupCommit<number, string>({
    maxBatch: opts.maxBatch ?? 100,
    maxInFlight: opts.maxInFlight ?? 1,
    runBatch: async (items) => {
      batches.push(items);
      await hold;
      if (opts.failBatch?.(items)) throw new Error("batch transaction failed");
      return items.map((i) => `batch:${i}`);
    },
    runOne: async (item) => {
      alone.push(item);
      await hold;
      if (item < 0) throw new Error(`item ${item} fails alone too`);
      return `one:${item}`;
    },
    onRun: (size, failed) => runs.push([size, failed]),
  });
  return {
    gc,
    batches,
    alone,
    runs,
    holdWith(g: Promise<void>) {
      hold = g;
    },
  };
}

describe("GroupCommit", () => {
  it("an item with nothing in flight runs at once, alone (no added latency when idle)", async () => {
    const r = recorder({});
    expect(await r.gc.submit(1)).toBe("one:1");
    expect(await r.gc.submit(2)).toBe("one:2");
    expect(r.alone).toEqual([1, 2]);
    expect(r.batches).toEqual([]);
  });

  it("items that arrive while a unit is in flight wait, then go together as one batch; each gets its own result", async () => {
    const r = recorder({});
    const g = gate();
    r.holdWith(g.opened);
    const first = r.gc.submit(1);
    const rest = [2, 3, 4, 5].map((i) => r.gc.submit(i));
    expect(r.gc.queued).toBe(4);
    g.open();
    expect(await first).toBe("one:1");
    expect(await Promise.all(rest)).toEqual(["batch:2", "batch:3", "batch:4", "batch:5"]);
    expect(r.batches).toEqual([[2, 3, 4, 5]]);
    expect(r.runs).toEqual([
      [1, false],
      [4, false],
    ]);
    expect(r.gc.queued).toBe(0);
  });

  it("a batch takes at most maxBatch; several run at once up to maxInFlight", async () => {
    const r = recorder({ maxBatch: 3, maxInFlight: 2 });
    const g = gate();
    r.holdWith(g.opened);
    const all = Array.from({ length: 10 }, (_, i) => r.gc.submit(i));
    // Two slots: 0 and 1 went at once, alone; the other eight wait.
    expect(r.alone).toEqual([0, 1]);
    expect(r.gc.queued).toBe(8);
    g.open();
    const results = await Promise.all(all);
    expect(results.slice(0, 2)).toEqual(["one:0", "one:1"]);
    expect(results.slice(2)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((i) => `batch:${i}`));
    expect(r.batches.every((b) => b.length <= 3)).toBe(true);
    expect(r.batches.flat().sort((a, b) => a - b)).toEqual([2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("a failed batch retries every item alone: each gets exactly its own result or error", async () => {
    const r = recorder({ failBatch: (items) => items.includes(-1) });
    const g = gate();
    r.holdWith(g.opened);
    const first = r.gc.submit(0);
    const rest = [7, -1, 8].map((i) => r.gc.submit(i).catch((e: Error) => e.message));
    g.open();
    await first;
    expect(await Promise.all(rest)).toEqual(["one:7", "item -1 fails alone too", "one:8"]);
    expect(r.batches).toEqual([[7, -1, 8]]);
    expect(r.alone).toEqual([0, 7, -1, 8]);
    expect(r.runs).toEqual([
      [1, false],
      [3, true],
    ]);
  });

  it("a batch answering the wrong number of results is treated as failed, never misattributed", async () => {
    const g = gate();
    const alone: number[] = [];
    const gc = new GroupCommit<number, string>({
      maxBatch: 10,
      maxInFlight: 1,
      runBatch: async (items) => items.slice(1).map(String),
      runOne: async (item) => {
        alone.push(item);
        await g.opened;
        return `one:${item}`;
      },
    });
    const first = gc.submit(1);
    const rest = [2, 3].map((i) => gc.submit(i));
    g.open();
    await first;
    expect(await Promise.all(rest)).toEqual(["one:2", "one:3"]);
    expect(alone).toEqual([1, 2, 3]);
  });
});
