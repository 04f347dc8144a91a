// The one loop over the batches of a shard, for every way of training: it builds each batch (augmented
// if asked), hands it to a step, and keeps the running loss and accuracy. The step is plugged in:
// optimizer-step.ts (one thread; worker threads, through SyncedOptimizer) or distributed/exchange-step.ts
// (ranks, which await the network between computing their gradients and applying the mean).
import * as tf from '@tensorflow/tfjs';
import { makeBatch, type Augment } from './batches.ts';
import type { BatchProgress } from './events.ts';
import type { MnistSplit } from './mnist.ts';

export interface Batch {
  readonly x: tf.Tensor4D;
  readonly y: tf.Tensor2D;
  /** The step's index within the shard, from 0. */
  readonly index: number;
}

/** Tensors the step hands over; the loop reads and disposes them. */
export interface StepOutcome {
  /** The batch's mean training loss (null reads as NaN). */
  readonly loss: tf.Scalar | null;
  /** The batch's predicted digits, when the loop asked for them. */
  readonly predicted: tf.Tensor | null;
}

/** One update of the model from `batch`. The loop owns the batch's tensors and disposes them after. */
export type TrainStep = (batch: Batch, wantPredicted: boolean) => StepOutcome | Promise<StepOutcome>;

/** Sums rather than means, so the figures of several workers or ranks combine exactly. */
export interface StepSums {
  readonly lossSum: number;
  readonly steps: number;
  readonly correct: number;
  readonly samples: number;
}

/** The sums of several shards, added in the order given (rank order: every rank gets the same bits). */
export function addSums(all: readonly StepSums[]): StepSums {
  const total = (pick: (s: StepSums) => number) => all.reduce((sum, s) => sum + pick(s), 0);
  return { lossSum: total((s) => s.lossSum), steps: total((s) => s.steps), correct: total((s) => s.correct), samples: total((s) => s.samples) };
}

/**
 * The loss a step minimises: the batch's mean cross-entropy in training mode (dropout on). `keep` gets
 * the predicted digits, kept out of the step's tidy: the running accuracy costs one argMax, not a
 * second forward pass.
 */
export function trainingLoss(model: tf.LayersModel, batch: Batch, keep: ((predicted: tf.Tensor) => void) | null): () => tf.Scalar {
  return () => {
    const probabilities = model.apply(batch.x, { training: true }) as tf.Tensor;
    if (keep) keep(tf.keep(probabilities.argMax(-1)));
    return tf.metrics.categoricalCrossentropy(batch.y, probabilities).mean() as tf.Scalar;
  };
}

export interface StepHooks {
  readonly augment?: Augment | undefined;
  /** Also makes the loop count right answers, which costs an argMax per step (skipped when nobody watches). */
  readonly onBatch?: ((progress: BatchProgress) => void) | undefined;
  /** Checked before every batch: aborting stops the loop between two steps. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Trains on `order` in batches of `batchSize`. Between batches it yields to the event loop, so a process
 * that trains on its main thread still answers its probes, and ranks sharing a process take turns.
 */
export async function trainSteps(split: MnistSplit, order: Uint32Array, batchSize: number, step: TrainStep, hooks: StepHooks = {}): Promise<StepSums> {
  const wantPredicted = hooks.onBatch !== undefined;
  const batches = Math.ceil(order.length / batchSize);
  let lossSum = 0;
  let steps = 0;
  let correct = 0;
  for (let from = 0; from < order.length; from += batchSize) {
    hooks.signal?.throwIfAborted();
    const to = Math.min(order.length, from + batchSize);
    const { x, y } = makeBatch(split, order, from, to, hooks.augment, split.targets);
    let outcome: StepOutcome;
    try {
      outcome = await step({ x, y, index: steps }, wantPredicted);
    } finally {
      x.dispose();
      y.dispose();
    }
    lossSum += outcome.loss?.dataSync()[0] ?? Number.NaN;
    outcome.loss?.dispose();
    steps++;
    if (outcome.predicted) {
      const labels = outcome.predicted.dataSync();
      for (let j = 0; j < labels.length; j++) if (split.labels[order[from + j]!] === labels[j]) correct++;
      outcome.predicted.dispose();
    }
    hooks.onBatch?.({ batch: steps, batches, samples: to, loss: lossSum / steps, accuracy: correct / to });
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  return { lossSum, steps, correct, samples: order.length };
}
