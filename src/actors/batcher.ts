// Dynamic batching: requests gather until the batch holds `maxBatch` images or its oldest request has
// waited `maxWaitMs`, then run as one. A single model call on 64 images costs little more than on one.
import { systemClock, type Clock } from './clock.ts';

export interface BatcherOptions {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
  readonly clock?: Clock;
}

export class Batcher<T> {
  private pending: T[] = [];
  private pendingSize = 0;
  private timer: unknown = null;
  private readonly running = new Set<Promise<void>>();
  private readonly clock: Clock;

  constructor(
    private readonly options: BatcherOptions,
    private readonly run: (items: T[]) => Promise<void>,
  ) {
    this.clock = options.clock ?? systemClock;
  }

  /** `size` is how many images the item carries; an item bigger than maxBatch runs as a batch of its own. */
  add(item: T, size: number): void {
    this.pending.push(item);
    this.pendingSize += size;
    if (this.pendingSize >= this.options.maxBatch || this.options.maxWaitMs === 0) this.flush();
    else if (this.timer === null) this.timer = this.clock.setTimeout(() => this.flush(), this.options.maxWaitMs);
  }

  get waiting(): number {
    return this.pending.length;
  }

  flush(): void {
    if (this.timer !== null) {
      this.clock.clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.pendingSize = 0;
    const running = this.run(batch).finally(() => this.running.delete(running));
    this.running.add(running);
  }

  /** Runs what is pending now and waits for every batch in progress. */
  async drain(): Promise<void> {
    this.flush();
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}
