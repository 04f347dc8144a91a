// A rank's training step (plugged into the one step loop, ../step-loop.ts): the optimizer's step split in
// two, so that the exchange, which waits on the network, is awaited between computing and applying.
//   gradients: every step's gradients are averaged by rank 0 (rounds of RankLink) before the update;
//              every rank applies the same bytes to the same weights: bit-identical models.
//   weights:   local steps, and every `syncEvery` steps (and at the epoch's end) the weights are averaged.
import * as tf from '@tensorflow/tfjs';
import type { SyncMode } from '../parallel/sync-modes.ts';
import { applyGradientVector, readGradients, readWeights, writeWeights, type ParamSlot } from '../params.ts';
import type { GradientSource } from '../gradient-source.ts';
import type { TrainStep } from '../step-loop.ts';
import { bytesOf, floatsOf } from './model-state.ts';
import type { RankLink } from './rank-link.ts';

export interface RankModel {
  readonly model: tf.LayersModel;
  readonly optimizer: tf.Optimizer;
  readonly gradients: GradientSource;
  readonly slots: readonly ParamSlot[];
  readonly length: number;
}

export interface ExchangeStep {
  readonly step: TrainStep;
  /** Local SGD ends the epoch on averaged weights, so every rank scores (and later saves) one model. */
  endEpoch(): Promise<void>;
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
async function averageWeights(rank: RankModel, link: RankLink, label: string): Promise<void> {
  const mean = await link.round(label, bytesOf(readWeights(rank.slots, new Float32Array(rank.length))), meanOf);
  writeWeights(rank.slots, floatsOf(mean));
}

/** The step of one epoch (`epoch` from 0 names the rounds in a timeout's message). */
export function exchangeStep(rank: RankModel, link: RankLink, plan: { readonly epoch: number; readonly sync: SyncMode; readonly syncEvery: number }): ExchangeStep {
  const { optimizer, gradients, slots, length } = rank;
  const flat = new Float32Array(length);
  let unsynced = 0;
  const step: TrainStep = async (batch, wantPredicted) => {
    const { loss, grads, predicted } = await gradients.compute(batch, wantPredicted);
    const label = `epoch ${plan.epoch + 1} step ${batch.index + 1}`;
    if (plan.sync === 'gradients') {
      readGradients(grads, slots, flat);
      tf.dispose(Object.values(grads));
      applyGradientVector(optimizer, slots, floatsOf(await link.round(label, bytesOf(flat), meanOf)));
    } else {
      optimizer.applyGradients(grads);
      tf.dispose(Object.values(grads));
      if (++unsynced === plan.syncEvery) {
        await averageWeights(rank, link, label);
        unsynced = 0;
      }
    }
    return { loss, predicted };
  };
  const endEpoch = async () => {
    if (unsynced > 0) await averageWeights(rank, link, `the end of epoch ${plan.epoch + 1}`);
  };
  return { step, endEpoch };
}
