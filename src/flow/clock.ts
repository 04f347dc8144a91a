// Time behind an interface, so that batching, retries and supervision can be tested without sleeping
// (test/helpers/fake-clock.ts moves time by hand).
export interface Clock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Wraps `work` so that the calls made before it runs lead to one run, deferred by `defer`:
 * queueMicrotask runs it when the current job ends, setImmediate after the event loop's next I/O. */
export function coalesced(work: () => void, defer: (run: () => void) => void): () => void {
  let pending = false;
  return () => {
    if (pending) return;
    pending = true;
    defer(() => {
      pending = false;
      work();
    });
  };
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason as soon as it is aborted. */
export function sleep(ms: number, clock: Clock = systemClock, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * What `work` settles to, if it does within `ms`; else what `onTimeout` returns (or throws). The timer
 * goes either way, and `work` settling late changes nothing: the one way this code gives a wait a deadline.
 */
export function within<T, F>(work: Promise<T>, ms: number, onTimeout: () => F, clock: Clock = systemClock): Promise<T | F> {
  return new Promise<T | F>((resolve, reject) => {
    const timer = clock.setTimeout(() => {
      try {
        resolve(onTimeout());
      } catch (error) {
        reject(error);
      }
    }, ms);
    work.then(
      (value) => {
        clock.clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clock.clearTimeout(timer);
        reject(error);
      },
    );
  });
}
