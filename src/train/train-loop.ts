// One epoch of training steps on a model, and the timing of its inference.
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from './batches.ts';
import type { MnistSplit } from './mnist.ts';

/** Running figures of the epoch so far, handed to `onBatch` after every step. */
export interface BatchProgress {
  readonly batch: number;
  readonly batches: number;
  readonly samples: number;
  /** Means over the epoch's batches so far (training mode: dropout on, augmented images). */
  readonly loss: number;
  readonly accuracy: number;
}

export interface EpochHooks {
  readonly augment?: (pixels: Float32Array, count: number) => void;
  readonly onBatch?: (progress: BatchProgress) => void;
}

/**
 * One pass over `indices` in batches; returns the mean loss. Between batches it yields to the event
 * loop, so a process that trains on its main thread still answers its probes, and checks `signal`.
 */
export async function trainEpoch(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  split: MnistSplit,
  indices: Uint32Array,
  batchSize: number,
  signal?: AbortSignal,
  hooks: EpochHooks = {},
): Promise<number> {
  let lossSum = 0;
  let steps = 0;
  let correct = 0;
  const batches = Math.ceil(indices.length / batchSize);
  for (let i = 0; i < indices.length; i += batchSize) {
    signal?.throwIfAborted();
    const to = Math.min(indices.length, i + batchSize);
    const { x, y } = makeBatch(split, indices, i, to, hooks.augment);
    let predicted: tf.Tensor | undefined;
    const loss = optimizer.minimize(() => {
      const probabilities = model.apply(x, { training: true }) as tf.Tensor;
      // Kept out of minimize's tidy: the running accuracy costs one argMax, not a second forward pass
      // (and nothing when nobody watches, as in bench/train.ts).
      if (hooks.onBatch) predicted = tf.keep(probabilities.argMax(-1));
      return tf.metrics.categoricalCrossentropy(y, probabilities).mean() as tf.Scalar;
    }, true);
    lossSum += loss?.dataSync()[0] ?? Number.NaN;
    steps++;
    if (predicted) {
      const labels = predicted.dataSync();
      for (let j = 0; j < labels.length; j++) if (split.labels[indices[i + j]!] === labels[j]) correct++;
      predicted.dispose();
    }
    loss?.dispose();
    x.dispose();
    y.dispose();
    hooks.onBatch?.({ batch: steps, batches, samples: to, loss: lossSum / steps, accuracy: correct / to });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return lossSum / Math.max(1, steps);
}

/** Median milliseconds of one forward pass over `n` blank images, after a warm-up. */
export function timeInference(model: tf.LayersModel, n: number): number {
  const x = tf.zeros([n, 28, 28, 1]);
  const run = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  x.dispose();
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}
