// The one retry helper: backoff schedule, limits in attempts and time, final failures, interruption.
import { describe, expect, test } from 'bun:test';
import { backoffDelay, RetriesExhausted, retry } from '../../src/flow/retry.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Runs `retry` on a fake clock, moving time 1 ms at a time, and records when each attempt started. */
async function onFakeTime<T>(run: (clock: FakeClock) => Promise<T>, limitMs = 100_000) {
  const clock = new FakeClock();
  let settled = false;
  const outcome = run(clock).finally(() => (settled = true));
  outcome.catch(() => {});
  for (let ms = 0; ms < limitMs && !settled; ms++) {
    await flush();
    clock.advance(1);
  }
  return { outcome, clock };
}

describe('backoffDelay', () => {
  test('doubles from the first delay up to the cap; factor 1 keeps a fixed pace', () => {
    const backoff = { firstDelayMs: 100, maxDelayMs: 1_000 };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(backoff, n))).toEqual([100, 200, 400, 800, 1000, 1000]);
    expect([1, 2, 3].map((n) => backoffDelay({ firstDelayMs: 50, maxDelayMs: 50, factor: 1 }, n))).toEqual([50, 50, 50]);
  });

  test('jitter draws between half and all of the delay', () => {
    const backoff = { firstDelayMs: 100, maxDelayMs: 1_000, jitter: true };
    expect(backoffDelay(backoff, 3, () => 0)).toBe(200);
    expect(backoffDelay(backoff, 3, () => 0.999999)).toBeCloseTo(400, 3);
  });
});

describe('retry', () => {
  test('tries again after each failure, with growing pauses, until it succeeds', async () => {
    const startedAt: number[] = [];
    const { outcome } = await onFakeTime((clock) =>
      retry(
        async (attempt) => {
          startedAt.push(clock.now());
          if (attempt < 4) throw new Error(`failure ${attempt}`);
          return 'done';
        },
        { firstDelayMs: 10, maxDelayMs: 25 },
        { clock },
      ),
    );
    expect(await outcome).toBe('done');
    expect(startedAt.slice(1).map((at, i) => at - (startedAt[i] as number))).toEqual([10, 20, 25]);
  });

  test('a failure that is not retriable is thrown at once, as it is', async () => {
    let attempts = 0;
    const final = new Error('404');
    const outcome = retry(
      async () => {
        attempts++;
        throw final;
      },
      { firstDelayMs: 1, maxDelayMs: 1 },
      { retriable: (error) => error !== final },
    );
    await expect(outcome).rejects.toBe(final);
    expect(attempts).toBe(1);
  });

  test('maxAttempts and budgetMs end the tries with RetriesExhausted carrying the last failure', async () => {
    const attempts = await retry(async (n) => Promise.reject(new Error(`try ${n}`)), { firstDelayMs: 0, maxDelayMs: 0, maxAttempts: 3 }).catch((e: unknown) => e);
    expect(attempts).toBeInstanceOf(RetriesExhausted);
    expect((attempts as RetriesExhausted).attempts).toBe(3);
    expect(((attempts as RetriesExhausted).last as Error).message).toBe('try 3');

    const { outcome, clock } = await onFakeTime((c) => retry(async () => Promise.reject(new Error('down')), { firstDelayMs: 40, maxDelayMs: 40, budgetMs: 100 }, { clock: c }));
    const error = await outcome.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RetriesExhausted);
    expect((error as RetriesExhausted).message).toContain('down');
    // 0, 40, 80, and a last try when the budget ends at 100: never a pause past it.
    expect((error as RetriesExhausted).attempts).toBe(4);
    expect(clock.now()).toBeLessThanOrEqual(101);
  });

  test('aborting the signal ends the pause at once with its reason', async () => {
    const stop = new AbortController();
    const outcome = retry(async () => Promise.reject(new Error('busy')), { firstDelayMs: 60_000, maxDelayMs: 60_000 }, { signal: stop.signal });
    await flush();
    stop.abort(new Error('stopped'));
    await expect(outcome).rejects.toThrow('stopped');
  });
});
