// At-least-once bookkeeping for one assigned partition. Handlers may finish out of order (concurrency > 1),
// but a Kafka offset commit means "everything before this is done", so only the contiguous prefix of
// finished messages may be committed: a crash then redelivers the unfinished ones, never skips them.
// Offsets are plain numbers: exact up to 2^53, which no partition reaches.

/** One delivered message; hand it back to `finish` once its handler is done with it. */
export interface Pending {
  readonly offset: number;
  done: boolean;
}

export class PartitionProgress {
  private queue: Pending[] = [];
  private head = 0;
  /** Last finished offset of the prefix + 1: what a commit would store. */
  private finishedUpTo = -1;
  private committed = -1;

  /** Call in delivery order, which for one partition is offset order. */
  started(offset: number): Pending {
    const entry: Pending = { offset, done: false };
    this.queue.push(entry);
    return entry;
  }

  finish(entry: Pending): void {
    entry.done = true;
    this.advance();
  }

  /** The offset to commit if the finished prefix moved past the last commit; null otherwise. */
  uncommitted(): number | null {
    return this.finishedUpTo > this.committed ? this.finishedUpTo : null;
  }

  markCommitted(offset: number): void {
    if (offset > this.committed) this.committed = offset;
  }

  get inFlight(): number {
    return this.queue.length - this.head;
  }

  private advance(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Pending).done) {
      this.finishedUpTo = (this.queue[this.head] as Pending).offset + 1;
      this.head++;
    }
    // Drop the consumed prefix now and then instead of shifting on every message.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
  }
}
