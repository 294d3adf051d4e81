/**
 * Adaptive micro-batching (group commit). One item with nothing in flight goes at once, alone: an idle
 * service adds no latency. While `maxInFlight` batches are running, later items queue; when one
 * finishes, the next batch takes everything queued (at most `maxBatch`) and runs it as one unit (one
 * transaction, one commit). Under load the batches grow by themselves; with light load they stay small.
 *
 * Each item settles with its own result. If a batch as a whole fails (its transaction aborted:
 * a deadlock, a statement timeout, one item whose SQL raises, a lost connection), every item of
 * it is retried alone through `runOne`, which gives it exactly the result or error it would have had
 * without batching. The units must be idempotent per item (here: `clientReqId`), because a batch
 * whose COMMIT was sent when the connection died may have been applied: the retry then replays.
 */
export interface GroupCommitOptions<I, O> {
  /** Runs several items in one unit; resolves to one result per item, in the input order. */
  runBatch(items: I[]): Promise<O[]>;
  /** Runs one item alone (a single item with nothing queued, and the retry of a failed batch). */
  runOne(item: I): Promise<O>;
  /** Largest batch taken from the queue. */
  maxBatch: number;
  /** Batches (or single items) running at once. */
  maxInFlight: number;
  /** Observes each unit run: its size, and whether it failed as a whole and was retried item by item. */
  onRun?(size: number, failed: boolean): void;
}

interface Waiting<I, O> {
  item: I;
  resolve(value: O): void;
  reject(error: unknown): void;
}

export class GroupCommit<I, O> {
  private queue: Waiting<I, O>[] = [];
  private head = 0;
  private inFlight = 0;

  constructor(private readonly opts: GroupCommitOptions<I, O>) {
    if (!(opts.maxBatch >= 1 && opts.maxInFlight >= 1))
      throw new Error("maxBatch and maxInFlight must be ≥ 1");
  }

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.pump();
    });
  }

  /** Items waiting for a batch slot (for tests and metrics). */
  get queued(): number {
    return this.queue.length - this.head;
  }

  private pump() {
    while (this.inFlight < this.opts.maxInFlight && this.queued > 0) {
      const end = Math.min(this.head + this.opts.maxBatch, this.queue.length);
      const batch = this.queue.slice(this.head, end);
      this.head = end;
      if (this.head === this.queue.length) {
        this.queue = [];
        this.head = 0;
      } else if (this.head > 1024) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.pump();
      });
    }
  }

  private async run(batch: Waiting<I, O>[]): Promise<void> {
    if (batch.length === 1) {
      this.opts.onRun?.(1, false);
      return this.alone(batch[0]!);
    }
    let results: O[];
    try {
      results = await this.opts.runBatch(batch.map((w) => w.item));
      if (results.length !== batch.length)
        throw new Error(`batch returned ${results.length} results for ${batch.length} items`);
    } catch {
      this.opts.onRun?.(batch.length, true);
      await Promise.all(batch.map((w) => this.alone(w)));
      return;
    }
    this.opts.onRun?.(batch.length, false);
    for (let i = 0; i < batch.length; i++) batch[i]!.resolve(results[i]!);
  }

  private async alone(w: Waiting<I, O>): Promise<void> {
    try {
      w.resolve(await this.opts.runOne(w.item));
    } catch (error) {
      w.reject(error);
    }
  }
}
