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

function makeBatch(split: MnistSplit, indices: Uint32Array, from: number, to: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = to - from;
  const pixels = new Float32Array(n * IMAGE_SIZE);
  const oneHot = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = indices[from + i]!;
    pixels.set(split.images.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    oneHot[i * 10 + split.labels[k]!] = 1;
  }
  return { x: tf.tensor4d(pixels, [n, 28, 28, 1]), y: tf.tensor2d(oneHot, [n, 10]) };
}

export function accuracy(model: tf.LayersModel, split: MnistSplit, indices: Uint32Array): number {
  let correct = 0;
  for (let i = 0; i < indices.length; i += 1000) {
    const { x, y } = makeBatch(split, indices, i, Math.min(indices.length, i + 1000));
    const predicted = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).dataSync());
    for (let j = 0; j < predicted.length; j++) if (split.labels[indices[i + j]!] === predicted[j]) correct++;
    x.dispose();
    y.dispose();
  }
  return correct / indices.length;
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
): Promise<number> {
  let lossSum = 0;
  let steps = 0;
  for (let i = 0; i < indices.length; i += batchSize) {
    signal?.throwIfAborted();
    const { x, y } = makeBatch(split, indices, i, Math.min(indices.length, i + batchSize));
    const loss = optimizer.minimize(
      () => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar,
      true,
    );
    lossSum += loss?.dataSync()[0] ?? Number.NaN;
    steps++;
    loss?.dispose();
    x.dispose();
    y.dispose();
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
