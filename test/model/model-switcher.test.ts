// The swap itself: batches that hold the old classifier finish on it, new batches get the new one at
// once, and the old one is closed only after its last batch. The predictors here are controllable
// stand-ins for worker classifiers (the switcher, not tfjs, is under test; hot-reload.test.ts runs real ones).
import { expect, test } from 'bun:test';
import { ModelSwitcher } from '../../src/model/model-switcher.ts';
import type { Predictor } from '../../src/model/worker-classifier.ts';

/** Each predict() waits until the test releases it, so a batch can be held "in flight". */
class HeldPredictor implements Predictor {
  readonly engine = 'wasm';
  alive = true;
  closedAt: number | null = null;
  private readonly held: (() => void)[] = [];
  constructor(readonly version: string) {}
  predict(_images: Float32Array, count: number): Promise<Float32Array> {
    if (!this.alive) return Promise.reject(new Error(`${this.version} is closed`));
    return new Promise((resolve) => this.held.push(() => resolve(new Float32Array(count * 10))));
  }
  finishAll(): void {
    for (const finish of this.held.splice(0)) finish();
  }
  async close(): Promise<void> {
    this.alive = false;
    this.closedAt = performance.now();
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
  const switcher = new ModelSwitcher();
  const v1 = new HeldPredictor('v1');
  const v2 = new HeldPredictor('v2');
  switcher.set(v1);
  const before = await Promise.all([runBatch(switcher), runBatch(switcher)]);

  let swapped = false;
  const swap = switcher.swap(v2).then(() => (swapped = true));
  const after = await runBatch(switcher);
  expect(after.version).toBe('v2');
  expect(switcher.current).toBe(v2);

  // The new classifier answers while the old one still holds its two batches, which keeps it open.
  v2.finishAll();
  expect(await after.done).toBe('v2');
  await Bun.sleep(5);
  expect(v1.alive).toBe(true);
  expect(swapped).toBe(false);

  v1.finishAll();
  expect(await Promise.all(before.map((b) => b.done))).toEqual(['v1', 'v1']);
  await swap;
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
  const switcher = new ModelSwitcher();
  const v1 = new HeldPredictor('v1');
  switcher.set(v1);
  const batch = await runBatch(switcher);
  const closing = switcher.close();
  expect(switcher.acquire()).toBeNull();
  await Bun.sleep(5);
  expect(v1.alive).toBe(true);
  v1.finishAll();
  expect(await batch.done).toBe('v1');
  await closing;
  expect(v1.alive).toBe(false);
});
