// Slots for work in progress, shared fairly among the clients that want them. The total is capped. A
// client holding at least its share (the cap divided among the clients that want slots, itself included)
// is refused even while slots are free, so one client with many connections cannot keep the slots the
// others need. "Want" means holding slots, or having asked within the last ACTIVE_MS: a client that sends
// one request at a time holds nothing between two of them, and must still count. A lone client may use
// every slot.
import { systemClock, type Clock } from './clock.ts';

export type Entry = 'admitted' | 'full' | 'over_share';

/** How long a client that asked for a slot counts as wanting one. */
export const ACTIVE_MS = 1000;
/** Clients remembered as active at once: a flood of new clients cannot grow this without bound. */
const MAX_REMEMBERED = 4096;

export class FairShare {
  private readonly held = new Map<string, number>();
  /** Clients that asked within ACTIVE_MS, with when they last asked; oldest first. */
  private readonly active = new Map<string, number>();
  /** Clients in `active` that hold no slot. */
  private idle = 0;
  private total = 0;

  constructor(
    private readonly capacity: number,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Takes a slot for `client` when it may have one; give it back with leave(). */
  enter(client: string): Entry {
    this.remember(client, this.clock.now());
    const mine = this.held.get(client) ?? 0;
    const wanting = this.held.size + this.idle;
    if (wanting > 1 && mine >= Math.max(1, Math.floor(this.capacity / wanting))) return 'over_share';
    if (this.total >= this.capacity) return 'full';
    if (mine === 0) this.idle--;
    this.held.set(client, mine + 1);
    this.total++;
    return 'admitted';
  }

  leave(client: string): void {
    const mine = this.held.get(client);
    if (mine === undefined) return;
    this.total--;
    if (mine > 1) {
      this.held.set(client, mine - 1);
      return;
    }
    this.held.delete(client);
    if (this.active.has(client)) this.idle++;
  }

  /** Slots held now, by all clients. */
  get inUse(): number {
    return this.total;
  }

  /** Marks `client` active now (last in line), after forgetting those inactive too long. */
  private remember(client: string, now: number): void {
    for (const [key, at] of this.active) {
      if (at >= now - ACTIVE_MS && this.active.size < MAX_REMEMBERED) break;
      this.forget(key);
    }
    if (this.active.delete(client)) {
      this.active.set(client, now);
      return;
    }
    this.active.set(client, now);
    if (!this.held.has(client)) this.idle++;
  }

  private forget(client: string): void {
    this.active.delete(client);
    if (!this.held.has(client)) this.idle--;
  }
}
