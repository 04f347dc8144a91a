// The page's own recent predictions, held in memory so that feedback ("right" / "it was a 7") can be
// stored with the exact 784 pixels the model saw, without the browser sending anything but a label.
// Why not re-send the strokes with the feedback: the server would trust the client to send the same
// drawing again, and a change to preprocessing between the two would label an image nobody classified.
// Bounded by images held and by age; lost on restart, and in cluster mode held by the gateway that
// answered (feedback for a prediction it does not hold is refused with 410, and the page then stops
// offering it).
import { PIXELS } from '../protocol/image.ts';

export interface RecentPrediction {
  readonly requestId: string;
  readonly sessionId: string;
  readonly digits: readonly number[];
  readonly modelVersion: string;
  /** digits.length × 784 values. */
  readonly pixels: Float32Array;
  readonly at: number;
}

export interface RecentLimits {
  /** Images held at most, over all predictions: 4,096 images are 12.8 MB of float32. */
  readonly maxImages: number;
  readonly maxAgeMs: number;
}

export const DEFAULT_RECENT_LIMITS: RecentLimits = Object.freeze({ maxImages: 4096, maxAgeMs: 60 * 60_000 });

export class RecentPredictions {
  /** Insertion order is age order: the first entry is always the oldest. */
  private readonly entries = new Map<string, RecentPrediction>();
  private images = 0;

  constructor(
    private readonly limits: RecentLimits = DEFAULT_RECENT_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  remember(entry: Omit<RecentPrediction, 'at'>): void {
    if (entry.pixels.length !== entry.digits.length * PIXELS) throw new Error('pixels do not match the digits');
    if (entry.digits.length > this.limits.maxImages) return;
    this.forget(entry.requestId);
    this.entries.set(entry.requestId, { ...entry, at: this.now() });
    this.images += entry.digits.length;
    this.prune();
  }

  /** The prediction if it is still held and was made in this session; null otherwise. */
  get(requestId: string, sessionId: string): RecentPrediction | null {
    this.prune();
    const entry = this.entries.get(requestId);
    return entry && entry.sessionId === sessionId ? entry : null;
  }

  holds(requestId: string): boolean {
    this.prune();
    return this.entries.has(requestId);
  }

  forgetSession(sessionId: string): void {
    for (const entry of [...this.entries.values()]) if (entry.sessionId === sessionId) this.forget(entry.requestId);
  }

  get size(): { predictions: number; images: number } {
    return { predictions: this.entries.size, images: this.images };
  }

  private forget(requestId: string): void {
    const entry = this.entries.get(requestId);
    if (!entry) return;
    this.entries.delete(requestId);
    this.images -= entry.digits.length;
  }

  private prune(): void {
    const oldestAllowed = this.now() - this.limits.maxAgeMs;
    for (const entry of this.entries.values()) {
      if (this.images <= this.limits.maxImages && entry.at >= oldestAllowed) break;
      this.forget(entry.requestId);
    }
  }
}
