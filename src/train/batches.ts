// Turns a list of sample indices into the tensors a model trains or is scored on.
import * as tf from '@tensorflow/tfjs';
import { IMAGE_SIZE, type MnistSplit } from './mnist.ts';

/** Distorts `count` images of a batch's pixels in place (see augment.ts). */
export type Augment = (pixels: Float32Array, count: number) => void;

/**
 * Fills a batch from `indices[from..to)`; `augment` may distort its pixels before they become a tensor.
 * `y` is each image's one-hot label, or its row of `targets` (soft-targets.ts) when given: training
 * passes the split's targets, scoring never does, so validation and test losses stay against the labels.
 */
export function makeBatch(split: MnistSplit, indices: Uint32Array, from: number, to: number, augment?: Augment, targets?: Float32Array): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = to - from;
  const pixels = new Float32Array(n * IMAGE_SIZE);
  const y = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = indices[from + i]!;
    pixels.set(split.images.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    if (targets) y.set(targets.subarray(k * 10, (k + 1) * 10), i * 10);
    else y[i * 10 + split.labels[k]!] = 1;
  }
  augment?.(pixels, n);
  return { x: tf.tensor4d(pixels, [n, 28, 28, 1]), y: tf.tensor2d(y, [n, 10]) };
}
