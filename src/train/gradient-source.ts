// What a training step asks of whatever computes its gradients: tfjs differentiating the model on its
// backend (below), or ONNX Runtime running the training graph (onnx/onnx-gradients.ts). Either way the
// optimizer applies them, so every way of training (one thread, worker threads, ranks) keeps its one update.
import type * as tf from '@tensorflow/tfjs';
import { trainingLoss, type Batch } from './step-loop.ts';

export interface StepGradients {
  /** The batch's mean training loss. */
  readonly loss: tf.Scalar;
  /** By variable name, as Optimizer.applyGradients takes them; the caller disposes them. */
  readonly grads: tf.NamedTensorMap;
  readonly predicted: tf.Tensor | null;
}

export interface GradientSource {
  compute(batch: Batch, wantPredicted: boolean): StepGradients | Promise<StepGradients>;
  /** Frees what the source holds outside tfjs (an ONNX Runtime session). */
  dispose(): Promise<void>;
}

export function tfjsGradients(model: tf.LayersModel, optimizer: tf.Optimizer, variables?: tf.Variable[]): GradientSource {
  return {
    compute: (batch, wantPredicted) => {
      let predicted: tf.Tensor | null = null;
      const { value, grads } = optimizer.computeGradients(trainingLoss(model, batch, wantPredicted ? (digits) => (predicted = digits) : null), variables);
      return { loss: value, grads, predicted };
    },
    dispose: async () => {},
  };
}
