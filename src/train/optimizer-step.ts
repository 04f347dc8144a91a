// The step of a model that updates itself: the batch's gradients (from tfjs or ONNX Runtime, gradients.ts)
// and one applyGradients. One thread trains with it on fastAdam; each worker thread on a SyncedOptimizer,
// which averages inside applyGradients.
import * as tf from '@tensorflow/tfjs';
import type { GradientSource } from './gradient-source.ts';
import type { TrainStep } from './step-loop.ts';

export function optimizerStep(optimizer: tf.Optimizer, gradients: GradientSource): TrainStep {
  return async (batch, wantPredicted) => {
    const { loss, grads, predicted } = await gradients.compute(batch, wantPredicted);
    try {
      optimizer.applyGradients(grads);
    } finally {
      tf.dispose(Object.values(grads));
    }
    return { loss, predicted };
  };
}
