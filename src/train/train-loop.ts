// The pieces of one training run that touch tensors: seeded shuffles, batches, an epoch, accuracy.
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, type MnistSplit } from './mnist.ts';

/** mulberry32: tiny seeded PRNG so the split and the shuffles replay exactly. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffle(indices: Uint32Array, random: () => number): void {
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = indices[i]!;
    indices[i] = indices[j]!;
    indices[j] = t;
  }
}

export function range(count: number): Uint32Array {
  return Uint32Array.from({ length: count }, (_, i) => i);
}

/** Fills a batch from `indices[from..to)`; `augment` may distort its pixels before they become a tensor. */
export function makeBatch(
  split: MnistSplit,
  indices: Uint32Array,
  from: number,
  to: number,
  augment?: (pixels: Float32Array, count: number) => void,
): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = to - from;
  const pixels = new Float32Array(n * IMAGE_SIZE);
  const oneHot = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = indices[from + i]!;
    pixels.set(split.images.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    oneHot[i * 10 + split.labels[k]!] = 1;
  }
  augment?.(pixels, n);
  return { x: tf.tensor4d(pixels, [n, 28, 28, 1]), y: tf.tensor2d(oneHot, [n, 10]) };
}

export interface SplitScore {
  /** Mean cross-entropy. */
  readonly loss: number;
  readonly accuracy: number;
  /** The predicted digit of each image, in the order of `indices`. */
  readonly predicted: Uint8Array;
}

/** Scores the model (inference mode) on `indices` of `split`. */
export function scoreSplit(model: tf.LayersModel, split: MnistSplit, indices: Uint32Array): SplitScore {
  const predicted = new Uint8Array(indices.length);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < indices.length; i += 1000) {
    const { x, y } = makeBatch(split, indices, i, Math.min(indices.length, i + 1000));
    const [labels, loss] = tf.tidy(() => {
      const probabilities = model.predict(x) as tf.Tensor;
      return [probabilities.argMax(-1).dataSync(), tf.metrics.categoricalCrossentropy(y, probabilities).sum().dataSync()[0]!] as const;
    });
    lossSum += loss;
    for (let j = 0; j < labels.length; j++) {
      predicted[i + j] = labels[j]!;
      if (split.labels[indices[i + j]!] === labels[j]) correct++;
    }
    x.dispose();
    y.dispose();
  }
  return { loss: lossSum / Math.max(1, indices.length), accuracy: correct / Math.max(1, indices.length), predicted };
}

export function accuracy(model: tf.LayersModel, split: MnistSplit, indices: Uint32Array): number {
  return scoreSplit(model, split, indices).accuracy;
}

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
