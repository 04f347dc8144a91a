// A bounded FIFO with an awaitable take: the actor's inbox. Full means the sender must back off.
export class Mailbox<T> {
  private items: T[] = [];
  private head = 0;
  private wakeUp: (() => void) | null = null;
  private closed = false;

  constructor(readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  /** False when full or closed: the caller decides whether to retry, reject or drop. */
  offer(item: T): boolean {
    if (this.closed || this.size >= this.capacity) return false;
    this.items.push(item);
    this.wake();
    return true;
  }

  /** Up to `max` items, oldest first, without waiting. */
  drain(max: number): T[] {
    const end = Math.min(this.items.length, this.head + max);
    const taken = this.items.slice(this.head, end);
    this.head = end;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return taken;
  }

  /** Resolves when there is something to take, or when the mailbox closes. */
  async waitForItems(): Promise<void> {
    if (this.size > 0 || this.closed) return;
    await new Promise<void>((resolve) => (this.wakeUp = resolve));
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = null;
    wakeUp?.();
  }
}
