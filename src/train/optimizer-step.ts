// The step of a model that updates itself: one optimizer.minimize per batch. One thread trains with it
// on fastAdam; each worker thread on a SyncedOptimizer, which averages inside applyGradients.
import type * as tf from '@tensorflow/tfjs';
import { trainingLoss, type TrainStep } from './step-loop.ts';

export function optimizerStep(model: tf.LayersModel, optimizer: tf.Optimizer): TrainStep {
  return (batch, wantPredicted) => {
    let predicted: tf.Tensor | null = null;
    const loss = optimizer.minimize(trainingLoss(model, batch, wantPredicted ? (digits) => (predicted = digits) : null), true);
    return { loss, predicted };
  };
}
