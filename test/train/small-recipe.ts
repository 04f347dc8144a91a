// The slice of MNIST the worker-thread and rank tests train on: seed arch (no dropout) and 640 samples,
// so a run takes seconds and is fully determined by its seed and its worker or rank count.
import type { TrainRecipe } from '../../src/train/recipe.ts';
import { MNIST_DIR } from '../helpers/data.ts';

export const SMALL_RECIPE = {
  mnistDir: MNIST_DIR,
  arch: 'seed',
  epochs: 1,
  batchSize: 32,
  maxSamples: 640,
  seed: 7,
  learningRate: 0.001,
  lrDecay: 0.7,
} as const satisfies Omit<TrainRecipe, 'outDir'>;
