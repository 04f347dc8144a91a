/**
 * Model architectures the trainer can build, by name. Input is always a [28,28,1] image in
 * 0..1 and output a softmax over the 10 digits, so every arch serves behind the same code.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchName } from './arch-names.ts';

export { ARCHS, isArchName, type ArchName } from './arch-names.ts';

/**
 * Builds an untrained model. `seed` fixes the weight initialisers (each layer gets its own
 * seed derived from it); dropout masks stay unseeded because a seeded tfjs Dropout replays
 * the same mask on every step.
 */
export function buildModel(arch: ArchName, seed = 42): tf.Sequential {
  let s = seed;
  const he = () => tf.initializers.heUniform({ seed: s++ });
  const glorot = () => tf.initializers.glorotUniform({ seed: s++ });
  const model = tf.sequential({ name: `stratus_${arch}` });
  if (arch === 'seed') {
    // The reference network; kept exactly as specified so its numbers stay comparable.
    model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 100, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot() }));
    return model;
  }
  if (arch === 'compact') {
    // The default network with three quarters of its filters (24, 48): ~60 % of its multiply-adds per
    // image (1.55 M against 2.6 M), for a consumer that must answer thousands of digits a second.
    model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 24, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 48, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.dropout({ rate: 0.25 }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot() }));
    return model;
  }
  if (arch === 'lean') {
    // The default network with half its filters (16, 32): ~0.76 M multiply-adds per image against
    // 2.6 M, measured at about a third of its CPU per image on wasm at batch 16-64. Dense 128 stays:
    // it costs ~0.1 M multiply-adds and leaves room for the pen-drawn fine-tune.
    model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 16, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.conv2d({ filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
    model.add(tf.layers.flatten());
    model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he() }));
    model.add(tf.layers.dropout({ rate: 0.25 }));
    model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot() }));
    return model;
  }
  // Two valid-padded conv blocks: the second conv does most of the work on a 13x13 map, which
  // keeps a training step cheap on single-threaded wasm (~225k params, 0.9 MB). Light dropout
  // only: heavy regularisation pays off over more epochs than a ~10 minute wasm run allows.
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 32, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: 64, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.dropout({ rate: 0.25 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot() }));
  return model;
}
