// The swap itself: batches that hold the old classifier finish on it, new batches get the new one at
// once, and the old one is closed only after its last batch. The predictors here are controllable
// stand-ins for worker classifiers (the switcher, not tfjs, is under test; hot-reload.test.ts runs real ones).
import { expect, test } from 'bun:test';
import { ModelSwitcher } from '../../src/model/model-switcher.ts';
import type { Predictor } from '../../src/model/worker-classifier.ts';

/** Each predict() waits until the test releases it, so a batch can be held "in flight". What happens to
 * the predictors goes into one shared log, in the order it happens: whether a classifier was closed
 * before its last batch ended is then read off the order, whenever the close came. */
class HeldPredictor implements Predictor {
  readonly engine = 'wasm';
  alive = true;
  private readonly held: (() => void)[] = [];
  constructor(
    readonly version: string,
    private readonly log: string[] = [],
  ) {}
  predict(_images: Float32Array, count: number): Promise<Float32Array> {
    if (!this.alive) return Promise.reject(new Error(`${this.version} is closed`));
    return new Promise((resolve) => this.held.push(() => resolve(new Float32Array(count * 10))));
  }
  finishAll(): void {
    for (const finish of this.held.splice(0)) {
      this.log.push(`${this.version} answered`);
      finish();
    }
  }
  async close(): Promise<void> {
    this.alive = false;
    this.log.push(`${this.version} closed`);
  }
}

async function runBatch(switcher: ModelSwitcher): Promise<{ version: string; done: Promise<string> }> {
  const lease = switcher.acquire();
  if (!lease) throw new Error('no classifier');
  const done = lease.predictor.predict(new Float32Array(784), 1).then(
    () => lease.predictor.version,
    (error: Error) => `failed: ${error.message}`,
  );
  void done.finally(() => lease.release());
  return { version: lease.predictor.version, done };
}

test('in-flight batches finish on the old classifier; new batches use the new one; the old closes last', async () => {
  const log: string[] = [];
  const switcher = new ModelSwitcher();
  const v1 = new HeldPredictor('v1', log);
  const v2 = new HeldPredictor('v2', log);
  switcher.set(v1);
  const before = await Promise.all([runBatch(switcher), runBatch(switcher)]);

  const swap = switcher.swap(v2).then(() => void log.push('swap done'));
  const after = await runBatch(switcher);
  expect(after.version).toBe('v2');
  expect(switcher.current).toBe(v2);

  // The new classifier answers while the old one still holds its two batches, which keeps it open.
  v2.finishAll();
  expect(await after.done).toBe('v2');
  v1.finishAll();
  expect(await Promise.all(before.map((b) => b.done))).toEqual(['v1', 'v1']);
  await swap;
  // Only the old classifier's batches can end its wait, and they end when the test says: a close (or a
  // swap resolved) before them would stand before them here, however soon or late it came.
  expect(log).toEqual(['v2 answered', 'v1 answered', 'v1 answered', 'v1 closed', 'swap done']);
  expect(v1.alive).toBe(false);
  expect(v2.alive).toBe(true);
});

test('a swap with nothing in flight closes the old classifier at once', async () => {
  const switcher = new ModelSwitcher();
  const v1 = new HeldPredictor('v1');
  switcher.set(v1);
  await switcher.swap(new HeldPredictor('v2'));
  expect(v1.alive).toBe(false);
});

test('close waits for the batches in flight, then closes the current classifier', async () => {
  const log: string[] = [];
  const switcher = new ModelSwitcher();
  const v1 = new HeldPredictor('v1', log);
  switcher.set(v1);
  const batch = await runBatch(switcher);
  const closing = switcher.close().then(() => void log.push('close done'));
  expect(switcher.acquire()).toBeNull();
  v1.finishAll();
  expect(await batch.done).toBe('v1');
  await closing;
  // As above: a close that did not wait for the batch would stand before its answer.
  expect(log).toEqual(['v1 answered', 'v1 closed', 'close done']);
  expect(v1.alive).toBe(false);
});
