// Dynamic batching: requests gather until the batch holds `maxBatch` images or its oldest request has
// waited `maxWaitMs`, then run as one. A single model call on 64 images costs little more than on one.
// With `maxRunning`, at most that many batches run at once; what arrives meanwhile waits and goes as the
// next batch the moment one ends (the model has one thread: calls queued behind each other cost more
// CPU as many small batches than as one big one, and answer no sooner).
import { systemClock, type Clock } from './clock.ts';

export interface BatcherOptions {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  /** Batches in progress at once; default unlimited. */
  readonly maxRunning?: number;
  readonly clock?: Clock;
}

interface Sized<T> {
  readonly item: T;
  readonly size: number;
}

export class Batcher<T> {
  private pending: Sized<T>[] = [];
  private pendingSize = 0;
  private timer: unknown = null;
  /** Items are pending because maxRunning batches run: the next batch to end starts them. */
  private held = false;
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;
  private readonly maxRunning: number;

  constructor(
    private readonly options: BatcherOptions,
    private readonly run: (items: T[]) => Promise<void>,
  ) {
    this.clock = options.clock ?? systemClock;
    this.maxRunning = options.maxRunning ?? Number.POSITIVE_INFINITY;
  }

  /** `size` is how many images the item carries; an item bigger than maxBatch runs as a batch of its own. */
  add(item: T, size: number): void {
    this.pending.push({ item, size });
    this.pendingSize += size;
    if (this.pendingSize >= this.options.maxBatch || this.options.maxWaitMs === 0) this.flush();
    else if (this.timer === null && !this.held) this.timer = this.clock.setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  get waiting(): number {
    return this.pending.length;
  }

  /** Starts batches from what is pending, as many as maxRunning allows. */
  flush(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.pending.length > 0 && this.running.size < this.maxRunning) this.start(this.take());
    this.held = this.pending.length > 0;
  }

  /** Runs what is pending now and waits for every batch in progress. */
  async drain(): Promise<void> {
    this.flush();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  /** The oldest items up to maxBatch images: the item that reaches it is included, so none is left out. */
  private take(): T[] {
    let images = 0;
    let count = 0;
    while (count < this.pending.length && images < this.options.maxBatch) images += (this.pending[count++] as Sized<T>).size;
    const batch = this.pending.splice(0, count);
    this.pendingSize -= images;
    return batch.map((entry) => entry.item);
  }

  private start(batch: T[]): void {
    const running: Promise<void> = this.run(batch).finally(() => {
      this.running.delete(running);
      if (this.held) this.flush();
    });
    this.running.add(running);
  }
}
