// When the gateway sends a message again (a hedge): the transport does the sending (request-reply.ts);
// this decides how long to wait first and how many hedges to allow. The wait is the configured floor or
// four times the p99 of recent round trips, whichever is longer: a message that slow is almost surely
// on a consumer that died or hangs, not merely queued. Only round trips that were answered before their
// hedge was due count, so a failover does not raise the wait for the requests after it. The wait never
// exceeds a ceiling: slow round trips just under the wait (a rebalance, a batch of 200 images) would
// otherwise raise it fourfold at each recompute, until a hung consumer's requests wait seconds for their
// hedge. A budget of hedges per second (a token bucket, bursts up to a second's worth) bounds the extra
// load, whatever goes wrong.
import { systemClock, type Clock } from '../flow/clock.ts';
import { TokenBucket } from '../flow/token-bucket.ts';

export interface HedgeSettings {
  /** The least wait before a hedge, ms; 0 turns hedging off. */
  readonly floorMs: number;
  /** The longest wait before a hedge, ms (raised to the floor if below it). */
  readonly ceilingMs: number;
  readonly maxPerSecond: number;
}

/** Round trips remembered for the p99, and how often it is worked out again. */
const WINDOW = 512;
const RECOMPUTE_EVERY = 64;
const P99_MULTIPLE = 4;

export class HedgePolicy {
  private readonly samples = new Float64Array(WINDOW);
  private count = 0;
  private next = 0;
  private sinceComputed = 0;
  private p99Ms = 0;
  private readonly budget: TokenBucket;

  constructor(
    private readonly settings: HedgeSettings,
    clock: Clock = systemClock,
  ) {
    // Bursts up to a second's worth.
    this.budget = new TokenBucket(settings.maxPerSecond, settings.maxPerSecond, clock);
  }

  /** How long a message waits for its reply before it is hedged; undefined when hedging is off. */
  delayMs(): number | undefined {
    if (this.settings.floorMs <= 0) return undefined;
    const { floorMs, ceilingMs } = this.settings;
    return Math.round(Math.max(floorMs, Math.min(ceilingMs, P99_MULTIPLE * this.p99Ms)));
  }

  /** A round trip answered before its hedge was due. */
  record(ms: number): void {
    this.samples[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
    this.count = Math.min(this.count + 1, WINDOW);
    if (++this.sinceComputed >= RECOMPUTE_EVERY) this.recompute();
  }

  /** Takes one hedge from the budget; false when this second's are spent. */
  take(): boolean {
    return this.budget.take();
  }

  get recentP99Ms(): number {
    return this.p99Ms;
  }

  private recompute(): void {
    this.sinceComputed = 0;
    const sorted = this.samples.slice(0, this.count).sort();
    this.p99Ms = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  }
}
