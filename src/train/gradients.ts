// Picks what computes a run's gradients (gradient-source.ts) from its --backend.
import type * as tf from '@tensorflow/tfjs';
import type { TrainingBackend } from './backend-names.ts';
import { tfjsGradients, type GradientSource } from './gradient-source.ts';

/**
 * The source for `backend`: onnx runs the training graph (dropout masks drawn from `random`); the tfjs
 * backends differentiate on themselves.
 */
export async function gradientSource(backend: TrainingBackend, model: tf.LayersModel, optimizer: tf.Optimizer, random: () => number, variables?: tf.Variable[]): Promise<GradientSource> {
  if (backend !== 'onnx') return tfjsGradients(model, optimizer, variables);
  const { OnnxGradients } = await import('./onnx/onnx-gradients.ts');
  return OnnxGradients.create(model, random);
}
