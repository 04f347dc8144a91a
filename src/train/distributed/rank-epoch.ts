// One epoch of one rank: the training loop of train-loop.ts, with the step split in two so that the
// gradient exchange, which waits on the network, can be awaited between computing and applying them.
//   gradients: every step's gradients are averaged by rank 0 (rounds of RankLink) before the update;
//              every rank applies the same bytes to the same weights: bit-identical models.
//   weights:   local steps, and every `syncEvery` steps (and at the epoch's end) the weights are averaged.
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from '../mnist.ts';
import type { SyncMode } from '../parallel/sync-modes.ts';
import { readWeights, writeWeights, type ParamSlot } from '../params.ts';
import { makeBatch } from '../batches.ts';
import type { BatchProgress } from '../train-loop.ts';
import { bytesOf, floatsOf } from './model-state.ts';
import type { RankLink } from './rank-link.ts';

export interface RankModel {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly slots: readonly ParamSlot[];
  readonly length: number;
}

export interface EpochPlan {
  readonly epoch: number;
  readonly split: MnistSplit;
  readonly shard: Uint32Array;
  readonly batchSize: number;
  readonly sync: SyncMode;
  readonly syncEvery: number;
  readonly augment?: (pixels: Float32Array, count: number) => void;
  readonly signal?: AbortSignal;
  readonly onBatch?: (progress: BatchProgress) => void;
}

/** Sums, so that rank 0 can combine the ranks' figures exactly. */
export interface EpochSums {
  readonly lossSum: number;
  readonly steps: number;
  readonly correct: number;
  readonly samples: number;
}

/** Rank 0's combine for a round of float32 vectors: the mean, summed in rank order. */
export function meanOf(payloads: Uint8Array[]): Uint8Array {
  const vectors = payloads.map(floatsOf);
  const length = vectors[0]!.length;
  if (vectors.some((v) => v.length !== length)) throw new Error(`the ranks sent vectors of ${vectors.map((v) => v.length).join(', ')} floats`);
  const mean = new Float32Array(length);
  const scale = 1 / vectors.length;
  for (let i = 0; i < length; i++) {
    let sum = vectors[0]![i]!;
    for (let r = 1; r < vectors.length; r++) sum += vectors[r]![i]!;
    mean[i] = sum * scale;
  }
  return bytesOf(mean);
}

/** Replaces every rank's weights by their mean (all ranks call it together). */
export async function averageWeights(rank: RankModel, link: RankLink, label: string): Promise<void> {
  const mean = await link.round(label, bytesOf(readWeights(rank.slots, new Float32Array(rank.length))), meanOf);
  writeWeights(rank.slots, floatsOf(mean));
}

export async function trainRankEpoch(rank: RankModel, link: RankLink, plan: EpochPlan): Promise<EpochSums> {
  const { model, optimizer, slots, length } = rank;
  const { split, shard, batchSize, sync, syncEvery, epoch } = plan;
  const variables = slots.map((s) => s.variable);
  const batches = Math.ceil(shard.length / batchSize);
  let lossSum = 0;
  let steps = 0;
  let correct = 0;
  let unsynced = 0;
  const flat = new Float32Array(length);
  for (let from = 0; from < shard.length; from += batchSize) {
    plan.signal?.throwIfAborted();
    const to = Math.min(shard.length, from + batchSize);
    const { x, y } = makeBatch(split, shard, from, to, plan.augment);
    let predicted: tf.Tensor | undefined;
    const { value, grads } = optimizer.computeGradients(() => {
      const probabilities = model.apply(x, { training: true }) as tf.Tensor;
      predicted = tf.keep(probabilities.argMax(-1));
      return tf.metrics.categoricalCrossentropy(y, probabilities).mean() as tf.Scalar;
    }, variables);
    x.dispose();
    y.dispose();
    const label = `epoch ${epoch + 1} step ${steps + 1}`;
    if (sync === 'gradients') {
      for (const { variable, offset } of slots) flat.set(grads[variable.name]!.dataSync() as Float32Array, offset);
      tf.dispose(Object.values(grads));
      const mean = floatsOf(await link.round(label, bytesOf(flat), meanOf));
      const averaged: tf.NamedTensorMap = {};
      for (const { variable, offset, size } of slots) averaged[variable.name] = tf.tensor(mean.subarray(offset, offset + size), variable.shape);
      optimizer.applyGradients(averaged);
      tf.dispose(Object.values(averaged));
    } else {
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      if (++unsynced === syncEvery) {
        await averageWeights(rank, link, label);
        unsynced = 0;
      }
    }
    lossSum += value.dataSync()[0]!;
    value.dispose();
    steps++;
    const labels = predicted!.dataSync();
    for (let j = 0; j < labels.length; j++) if (split.labels[shard[from + j]!] === labels[j]) correct++;
    predicted!.dispose();
    plan.onBatch?.({ batch: steps, batches, samples: to, loss: lossSum / steps, accuracy: correct / to });
    // Other ranks in this process (tests) and the probes get their turn.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  // Local SGD ends the epoch on averaged weights, so every rank scores (and later saves) one model.
  if (unsynced > 0) await averageWeights(rank, link, `the end of epoch ${epoch + 1}`);
  return { lossSum, steps, correct, samples: shard.length };
}
