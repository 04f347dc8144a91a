// The seeded draws behind --augment (and the dropout masks of training on ONNX Runtime), one stream per
// worker or rank: separate from the split's stream, so switching augmentation on leaves the hold-out and
// the epoch orders as they were.
import { augmentImages } from './augment.ts';
import type { Augment } from './batches.ts';
import { seededRandom } from './random.ts';

const AUGMENT_SEED = 0x5eed_a06;
const DROPOUT_SEED = 0xd40_90e7;

/** A worker's stream for the whole run. Worker 0's is the one-thread run's. */
export function workerAugmentStream(seed: number, worker: number): () => number {
  return seededRandom((seed ^ AUGMENT_SEED ^ Math.imul(worker, 0x9e3779b1)) >>> 0);
}

/** A worker's (or rank's) dropout masks for the whole run, when the ONNX Runtime graph draws them. */
export function workerDropoutStream(seed: number, worker: number): () => number {
  return seededRandom((seed ^ DROPOUT_SEED ^ Math.imul(worker, 0x9e3779b1)) >>> 0);
}

/** A rank's stream for one epoch: a resumed epoch distorts its images as the first attempt did. */
export function rankEpochAugmentStream(seed: number, rank: number, epoch: number): () => number {
  return seededRandom((seed ^ AUGMENT_SEED ^ Math.imul(rank, 0x9e3779b1) ^ Math.imul(epoch + 1, 0x85ebca6b)) >>> 0);
}

export function augmentFrom(random: () => number): Augment {
  return (pixels, count) => augmentImages(pixels, count, random);
}
