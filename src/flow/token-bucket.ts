// A token bucket: up to `capacity` takes at once, then `perSecond` more each second. The one way this code
// bounds how often something may happen: hedges at the gateway (actors/hedging.ts), and, one bucket per
// client, requests and failed admin logins (keyed-buckets.ts).
import { systemClock, type Clock } from './clock.ts';

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly capacity: number,
    private readonly perSecond: number,
    private readonly clock: Clock = systemClock,
  ) {
    this.tokens = capacity;
    this.refilledAt = clock.now();
  }

  /** Takes one token; false when none is left. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Takes `amount` tokens whether or not they are there: the bucket may go into debt, and then gives
   * nothing until the debt has grown back. For a cost known only after the work was let in. */
  spend(amount: number): void {
    this.refill();
    this.tokens -= amount;
  }

  /** How long until a token is there to take: 0 when one is. */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil(((1 - this.tokens) / this.perSecond) * 1000);
  }

  /** Back to capacity: nothing was taken that has not grown back. */
  get full(): boolean {
    this.refill();
    return this.tokens >= this.capacity;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.capacity, this.tokens + ((now - this.refilledAt) / 1000) * this.perSecond);
    this.refilledAt = now;
  }
}
