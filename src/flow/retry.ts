// The one way the service tries again: exponential backoff, optionally jittered, with a limit in attempts
// or in time, failures sorted into worth-another-try and final. `retry` runs a call until it succeeds;
// `backoffDelay` is the same schedule for those who wait on a timer instead of in a loop (the supervisor
// restarting an actor, a transport redelivering a message, a Kafka consumer restarted after a crash).
import { sleep, systemClock, type Clock } from './clock.ts';

export interface Backoff {
  /** The pause after the first failure; each further failure multiplies it by `factor`, up to maxDelayMs. */
  readonly firstDelayMs: number;
  readonly maxDelayMs: number;
  /** Default 2; 1 polls at a fixed pace. */
  readonly factor?: number;
  /** Draws each pause from ½ to 1 times its length, so that clients which failed together (a server
   * restart) do not come back in lockstep. */
  readonly jitter?: boolean;
}

export interface RetryPolicy extends Backoff {
  /** Attempts at most; default: no limit. */
  readonly maxAttempts?: number;
  /** No attempt starts later than this after the first; default: no limit. */
  readonly budgetMs?: number;
}

export interface RetryHooks {
  /** Whether a failure is worth another try; the others are thrown at once, as they are. Default: all. */
  readonly retriable?: (error: unknown) => boolean;
  /** Hears each failure that will be tried again, with the pause before the next attempt. */
  readonly onRetry?: (error: unknown, failures: number, delayMs: number) => void;
  /** Aborting ends the pause between attempts: retry then rejects with the signal's reason. */
  readonly signal?: AbortSignal;
  readonly clock?: Clock;
}

/** The pause after `failures` failures in a row (1 for the first). */
export function backoffDelay(backoff: Backoff, failures: number, random: () => number = Math.random): number {
  const nominal = Math.min(backoff.maxDelayMs, backoff.firstDelayMs * (backoff.factor ?? 2) ** Math.max(0, failures - 1));
  return backoff.jitter ? nominal * (0.5 + random() * 0.5) : nominal;
}

/** Thrown when the attempts or the time allowed ran out; `last` is the last failure. */
export class RetriesExhausted extends Error {
  override readonly name = 'RetriesExhausted';
  constructor(
    readonly attempts: number,
    readonly last: unknown,
  ) {
    super(`gave up after ${attempts} attempts: ${last instanceof Error ? last.message : String(last)}`, { cause: last });
  }
}

/** Runs `attempt` (numbered from 1) until it resolves, fails for good, or the policy's limits are reached. */
export async function retry<T>(attempt: (attempt: number) => Promise<T>, policy: RetryPolicy, hooks: RetryHooks = {}): Promise<T> {
  const clock = hooks.clock ?? systemClock;
  const started = clock.now();
  for (let attempts = 1; ; attempts++) {
    try {
      return await attempt(attempts);
    } catch (error) {
      if (hooks.retriable && !hooks.retriable(error)) throw error;
      const left = (policy.budgetMs ?? Number.POSITIVE_INFINITY) - (clock.now() - started);
      if (attempts >= (policy.maxAttempts ?? Number.POSITIVE_INFINITY) || left <= 0) throw new RetriesExhausted(attempts, error);
      const delayMs = Math.min(left, backoffDelay(policy, attempts));
      hooks.onRetry?.(error, attempts, delayMs);
      await sleep(delayMs, clock, hooks.signal);
    }
  }
}
