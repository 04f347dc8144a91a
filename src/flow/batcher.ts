// src/flow/ is how work moves in time, for every layer above it: the clock (clock.ts), the one batching
// primitive (this file) and the one retry helper (retry.ts). It imports nothing of the project.
//
// The one batching primitive. The gateway (requests into one message), the consumer (messages into one
// model call), CouchStore (documents into one _bulk_docs) and the Kafka publisher (publishes into one
// sendBatch) all queue work here and take it back out as batches, each with its own policy:
//  - at low load a batch leaves on the next turn of the event loop, so what arrived in the same turn
//    (one read of many sockets) leaves together; with `lingerMs` the first item waits that long for company;
//  - a full batch (`maxSize`) leaves at once;
//  - while `maxRunning` batches are out, new items hold back and leave together the moment one ends: under
//    load batches grow by themselves, with no timer deciding their size. `maxHoldMs` bounds the hold, so a
//    batch stuck on a dead peer cannot stall the ones after it;
//  - `minIntervalMs` spaces the starts of batches while work keeps coming, for a peer that pays per request.
// A batch is the oldest items, whole, while their sizes stay within maxSize, and always at least one: an
// item bigger than maxSize leaves alone instead of blocking the queue.
import { coalesced, systemClock, type Clock } from './clock.ts';

export interface BatchPolicy {
  /** Largest batch, in the units of `sizeOf` (images, documents); Infinity: no limit. */
  readonly maxSize: number;
  /** Batches out at once before new items hold back. */
  readonly maxRunning: number;
  /** How long the first item waits for company when a batch could leave; 0 (default): the next turn. */
  readonly lingerMs?: number;
  /** Longest an item holds back while maxRunning batches are out; default: until one ends. */
  readonly maxHoldMs?: number;
  /** Shortest time between the starts of two batches; default 0. */
  readonly minIntervalMs?: number;
}

type Timer = 'linger' | 'hold' | 'interval';

export class Batcher<T> {
  private queue: T[] = [];
  private queuedSize = 0;
  private readonly running = new Set<Promise<void>>();
  private readonly timers = new Map<Timer, unknown>();
  /** What arrived in this turn of the event loop leaves together, on the next one. */
  private readonly startOnNextTurn = coalesced(() => this.startBatches(), setImmediate);
  private lastStartedAt = Number.NEGATIVE_INFINITY;

  /** `run` gets each batch and settles once it is done with it; it answers its items itself. */
  constructor(
    private readonly policy: BatchPolicy,
    private readonly run: (batch: T[]) => Promise<void>,
    private readonly sizeOf: (item: T) => number = () => 1,
    private readonly clock: Clock = systemClock,
  ) {}

  add(item: T): void {
    this.queue.push(item);
    this.queuedSize += this.sizeOf(item);
    this.schedule();
  }

  /** Items that have not left yet. */
  get waiting(): number {
    return this.queue.length;
  }

  /** Removes and returns every item that has not left yet (for a caller that gives up on them). */
  takeQueued(): T[] {
    for (const timer of this.timers.keys()) this.cancel(timer);
    const queued = this.queue;
    this.queue = [];
    this.queuedSize = 0;
    return queued;
  }

  /** Starts what is queued, within maxRunning but without waiting for company or intervals, until nothing
   * is queued or out. */
  async drain(): Promise<void> {
    while (this.queue.length > 0 || this.running.size > 0) {
      this.startBatches({ now: true });
      await Promise.allSettled([...this.running]);
    }
  }

  private schedule(): void {
    if (this.queue.length === 0) return;
    if (this.running.size >= this.policy.maxRunning) return this.holdBack();
    if (this.queuedSize >= this.policy.maxSize) return this.startBatches();
    const lingerMs = this.policy.lingerMs ?? 0;
    if (lingerMs > 0) return this.arm('linger', lingerMs, () => this.startBatches());
    this.startOnNextTurn();
  }

  private holdBack(): void {
    const maxHoldMs = this.policy.maxHoldMs ?? Number.POSITIVE_INFINITY;
    // Past the hold, everything queued leaves whatever is out: the batches out may never come back.
    if (Number.isFinite(maxHoldMs)) this.arm('hold', maxHoldMs, () => this.startBatches({ beyondRunning: true }));
  }

  /** `now`: no waiting for an interval; `beyondRunning`: past maxRunning too. */
  private startBatches(mode: { now?: boolean; beyondRunning?: boolean } = {}): void {
    this.cancel('linger');
    this.cancel('hold');
    while (this.queue.length > 0 && (mode.beyondRunning || this.running.size < this.policy.maxRunning)) {
      const wait = this.lastStartedAt + (this.policy.minIntervalMs ?? 0) - this.clock.now();
      if (wait > 0 && !mode.now) return this.arm('interval', wait, () => this.startBatches());
      this.startOne();
    }
    if (this.queue.length > 0) this.holdBack();
  }

  private startOne(): void {
    let count = 0;
    let size = 0;
    while (count < this.queue.length) {
      const next = this.sizeOf(this.queue[count] as T);
      if (count > 0 && size + next > this.policy.maxSize) break;
      size += next;
      count++;
    }
    const batch = this.queue.splice(0, count);
    this.queuedSize -= size;
    this.lastStartedAt = this.clock.now();
    this.cancel('interval');
    let started: Promise<void>;
    try {
      started = this.run(batch);
    } catch (error) {
      started = Promise.reject(error);
    }
    const running: Promise<void> = started.finally(() => {
      this.running.delete(running);
      // What held back while this batch was out leaves now, as the next batch.
      if (this.queue.length > 0) this.startBatches();
    });
    this.running.add(running);
  }

  private arm(timer: Timer, ms: number, fire: () => void): void {
    if (this.timers.has(timer)) return;
    this.timers.set(
      timer,
      this.clock.setTimeout(() => {
        this.timers.delete(timer);
        fire();
      }, ms),
    );
  }

  private cancel(timer: Timer): void {
    if (!this.timers.has(timer)) return;
    this.clock.clearTimeout(this.timers.get(timer));
    this.timers.delete(timer);
  }
}
