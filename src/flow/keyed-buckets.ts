// One token bucket per key (a client), made on first use: how this code limits each client on its own,
// for rate limits (http/admission.ts) and failed admin logins (http/admin-guard.ts). Memory stays bounded
// however many keys arrive: past `maxKeys`, buckets that have grown back full are dropped first (they
// remember nothing a new bucket would not), then the oldest.
import { systemClock, type Clock } from './clock.ts';
import { TokenBucket } from './token-bucket.ts';

export interface Rate {
  /** Takes allowed at once. */
  readonly burst: number;
  /** Takes that grow back each second. */
  readonly perSecond: number;
}

export class KeyedBuckets {
  private readonly buckets = new Map<string, TokenBucket>();

  constructor(
    private readonly rate: Rate,
    private readonly maxKeys = 10_000,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Takes one of `key`'s tokens; false when it has none left. */
  take(key: string): boolean {
    return this.bucketOf(key).take();
  }

  /** Takes `amount` more of `key`'s tokens, into debt if need be (TokenBucket.spend). */
  spend(key: string, amount: number): void {
    this.bucketOf(key).spend(amount);
  }

  /** How long until `key` has a token to take: 0 when it has one. Takes nothing. */
  waitMs(key: string): number {
    return this.buckets.get(key)?.waitMs() ?? 0;
  }

  /** Keys remembered now (bounded by maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  private bucketOf(key: string): TokenBucket {
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= this.maxKeys) this.forget();
      bucket = new TokenBucket(this.rate.burst, this.rate.perSecond, this.clock);
      this.buckets.set(key, bucket);
    }
    return bucket;
  }

  /** Makes room: drops every full bucket, then the oldest until a quarter of maxKeys is free, so the scan
   * runs once per many new keys rather than once per key. */
  private forget(): void {
    for (const [key, bucket] of this.buckets) if (bucket.full) this.buckets.delete(key);
    const target = Math.floor(this.maxKeys * 0.75);
    for (const key of this.buckets.keys()) {
      if (this.buckets.size <= target) break;
      this.buckets.delete(key);
    }
  }
}
