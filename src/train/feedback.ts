/**
 * `--include-feedback`: the labelled samples users gave on the page, once an admin accepted them
 * (trainingFeedback), join the MNIST training images. They are the pixels the model saw, so they need no preprocessing; they are few next
 * to MNIST's 54,000, so each is repeated (FEEDBACK_SHARE) to matter, and augmentation makes the repeats
 * differ. The validation hold-out and the test set stay pure MNIST, so their figures stay comparable.
 */
import type { FeedbackSample, Store } from '../adapters/store/store.ts';
import { IMAGE_SIZE, type MnistSplit } from './mnist.ts';

/** What the trainer needs of a stored sample. */
export type LabelledPixels = Pick<FeedbackSample, 'pixels' | 'label'>;

/** Read at most this many samples: all that people label by hand, and far below memory limits (3 KB each). */
export const FEEDBACK_LIMIT = 1_000_000;

/**
 * What is trained on (--include-feedback) and exported (`stratus feedback export`): the samples an admin
 * accepted (a visitor may label their own predictions anything; docs/training.md), newest first, and of
 * each session only its newest FEEDBACK_PER_SESSION, as the store's window gives them (Store.listFeedback).
 * One read for both, so the export is exactly the training data.
 */
export function trainingFeedback(store: Pick<Store, 'listFeedback'>): Promise<FeedbackSample[]> {
  return store.listFeedback(FEEDBACK_LIMIT, { state: 'accepted' });
}
/**
 * Feedback aims at this fraction of an epoch's MNIST images: ~5,000 pen digits repeated twice join
 * 54,000 MNIST images; a handful of samples repeats up to MAX_REPEAT times (50 samples → 1,000 images).
 */
export const FEEDBACK_SHARE = 0.2;
export const MAX_REPEAT = 20;

export interface FeedbackSet {
  readonly split: MnistSplit;
  /** Samples refused: not 784 finite pixels in 0..1, or a label that is not a digit. */
  readonly rejected: number;
}

/** Keeps the well-formed samples as an MnistSplit (pixels copied as float32). */
export function feedbackSplit(samples: readonly LabelledPixels[]): FeedbackSet {
  const usable = samples.filter(isUsable);
  const images = new Float32Array(usable.length * IMAGE_SIZE);
  const labels = new Uint8Array(usable.length);
  usable.forEach((sample, i) => {
    images.set(sample.pixels, i * IMAGE_SIZE);
    labels[i] = sample.label;
  });
  return { split: { images, labels, count: usable.length }, rejected: samples.length - usable.length };
}

function isUsable(sample: LabelledPixels): boolean {
  return (
    Number.isInteger(sample.label) &&
    sample.label >= 0 &&
    sample.label <= 9 &&
    Array.isArray(sample.pixels) &&
    sample.pixels.length === IMAGE_SIZE &&
    sample.pixels.every((p) => Number.isFinite(p) && p >= 0 && p <= 1)
  );
}

/** How many times each feedback sample appears per epoch beside `mnistCount` MNIST images. */
export function feedbackRepeat(mnistCount: number, feedbackCount: number): number {
  if (feedbackCount === 0) return 0;
  return Math.min(MAX_REPEAT, Math.max(1, Math.round((mnistCount * FEEDBACK_SHARE) / feedbackCount)));
}

export interface MixedTraining {
  /** MNIST's training images followed by the feedback images. */
  readonly split: MnistSplit;
  /** `mnistIndices` plus every feedback image `repeat` times (indices into `split`). */
  readonly indices: Uint32Array;
  readonly repeat: number;
}

/**
 * One split holding both sources, so the training loop batches and shuffles them together; indices
 * below `mnist.count` still name the same MNIST images (the validation indices stay valid).
 */
export function mixFeedback(mnist: MnistSplit, mnistIndices: Uint32Array, feedback: MnistSplit, repeat = feedbackRepeat(mnistIndices.length, feedback.count)): MixedTraining {
  if (feedback.count === 0 || repeat === 0) return { split: mnist, indices: mnistIndices, repeat: 0 };
  const images = new Float32Array((mnist.count + feedback.count) * IMAGE_SIZE);
  images.set(mnist.images.subarray(0, mnist.count * IMAGE_SIZE));
  images.set(feedback.images, mnist.count * IMAGE_SIZE);
  const labels = new Uint8Array(mnist.count + feedback.count);
  labels.set(mnist.labels.subarray(0, mnist.count));
  labels.set(feedback.labels, mnist.count);
  const indices = new Uint32Array(mnistIndices.length + feedback.count * repeat);
  indices.set(mnistIndices);
  for (let r = 0; r < repeat; r++) {
    for (let i = 0; i < feedback.count; i++) indices[mnistIndices.length + r * feedback.count + i] = mnist.count + i;
  }
  return { split: { images, labels, count: mnist.count + feedback.count }, indices, repeat };
}
