// Retrying CouchDB calls through a server restart or a dropped connection: transient failures are tried
// again with jittered exponential backoff until a time budget is spent; anything else fails at once.

export interface RetryPolicy {
  /** Total time spent retrying one call before giving up, ms. */
  readonly budgetMs: number;
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
}

// 15 s: a restarted CouchDB-API server took 2.8–6.1 s to answer again on the loaded CI machine, and a
// call that gives up costs a whole batch's redelivery; a consumer waiting 15 s is the lesser harm.
export const DEFAULT_RETRY: RetryPolicy = Object.freeze({ budgetMs: 15_000, firstDelayMs: 50, maxDelayMs: 1_000 });

/** What nano rejects with: an HTTP error carries statusCode; a connection failure carries none. */
export interface CouchFailure {
  readonly statusCode?: number;
  readonly error?: string;
  readonly reason?: string;
  readonly message?: string;
}

/** Connection refused or reset, timeouts, 5xx, 429: worth another try. 4xx answers are final. */
export function isTransient(error: unknown): boolean {
  const status = (error as CouchFailure | null)?.statusCode;
  if (status === undefined) return true;
  return status >= 500 || status === 429 || status === 408;
}

export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly attempts: number,
    readonly last: unknown,
  ) {
    super(`gave up after ${attempts} attempts`);
  }
}

/**
 * Runs `attempt` until it succeeds, fails with a non-transient error (rethrown as is), or the budget is
 * spent (RetriesExhausted). `stopped` ends the wait early, e.g. when the store is closed meanwhile.
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  policy: RetryPolicy,
  hooks: { onTransient?(error: unknown): void; stopped?(): Error | null } = {},
): Promise<T> {
  const deadline = Date.now() + policy.budgetMs;
  let delay = policy.firstDelayMs;
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt();
    } catch (error) {
      if (!isTransient(error)) throw error;
      hooks.onTransient?.(error);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new RetriesExhausted(attempts, error);
      // Full jitter: consumers that lost the server together should not come back in lockstep.
      await Bun.sleep(Math.min(remaining, delay * (0.5 + Math.random() * 0.5)));
      delay = Math.min(policy.maxDelayMs, delay * 2);
      const stop = hooks.stopped?.();
      if (stop) throw stop;
    }
  }
}
