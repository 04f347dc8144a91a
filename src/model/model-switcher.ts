// Which classifier the consumer's next batch uses, and an atomic swap to another one. A batch leases
// the current classifier for its inference; a swap makes new leases go to the new classifier at once,
// while batches that hold the old one finish on it; the old one is closed only when the last of them
// has returned it. So no request fails or changes model halfway through a switch.
import type { Predictor } from './worker-classifier.ts';

export interface Lease {
  readonly predictor: Predictor;
  release(): void;
}

interface Users {
  count: number;
  /** Set while a swap waits for this classifier's last batch. */
  idle: (() => void) | null;
}

export class ModelSwitcher {
  private active: Predictor | null = null;
  private readonly users = new Map<Predictor, Users>();

  get current(): Predictor | null {
    return this.active;
  }

  /** Null before a classifier was set. Every lease must be released, once. */
  acquire(): Lease | null {
    const predictor = this.active;
    if (!predictor) return null;
    const users = this.usersOf(predictor);
    users.count++;
    let released = false;
    return {
      predictor,
      release: () => {
        if (released) return;
        released = true;
        users.count--;
        if (users.count === 0) users.idle?.();
      },
    };
  }

  /** Sets the first classifier, or replaces a dead one without waiting for it. */
  set(predictor: Predictor): void {
    const previous = this.active;
    this.active = predictor;
    if (previous && previous !== predictor) void this.retire(previous);
  }

  /** New batches use `next` from now on; resolves once the previous classifier is drained and closed. */
  async swap(next: Predictor): Promise<void> {
    const previous = this.active;
    this.active = next;
    if (previous && previous !== next) await this.retire(previous);
  }

  /** Closes the current classifier (after its batches) and forgets it. */
  async close(): Promise<void> {
    const previous = this.active;
    this.active = null;
    if (previous) await this.retire(previous);
  }

  private async retire(predictor: Predictor): Promise<void> {
    const users = this.usersOf(predictor);
    if (users.count > 0) await new Promise<void>((resolve) => (users.idle = resolve));
    this.users.delete(predictor);
    await predictor.close();
  }

  private usersOf(predictor: Predictor): Users {
    let users = this.users.get(predictor);
    if (!users) {
      users = { count: 0, idle: null };
      this.users.set(predictor, users);
    }
    return users;
  }
}
