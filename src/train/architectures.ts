/**
 * Model architectures the trainer can build, by name. Input is always a [28,28,1] image in
 * 0..1 and output a softmax over the 10 digits, so every arch serves behind the same code.
 */
import * as tf from '@tensorflow/tfjs';
import type { ArchName } from './arch-names.ts';

export { ARCHS, isArchName, type ArchName } from './arch-names.ts';

/** Filters of the two conv blocks, for the archs built as two blocks and a Dense 128 head. */
const CONV_FILTERS: Readonly<Record<Exclude<ArchName, 'seed'>, readonly [number, number]>> = {
  default: [32, 64],
  compact: [24, 48],
  lean: [16, 32],
};

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
  // The other three share one shape, two valid-padded conv blocks and a Dense head, and differ in width:
  // - default (32, 64): the second conv does most of the work on a 13x13 map, which keeps a training step
  //   cheap on single-threaded wasm (~225k params, 0.9 MB). Light dropout only: heavy regularisation pays
  //   off over more epochs than a ~10 minute wasm run allows.
  // - compact (24, 48): ~60 % of the default's multiply-adds per image (1.55 M against 2.6 M).
  // - lean (16, 32): ~0.76 M multiply-adds, about a third of the default's CPU per image on wasm at batch
  //   16-64; Dense 128 stays (~0.1 M multiply-adds) and leaves room for the pen-drawn fine-tune. The
  //   embedded model (docs/training.md: The embedded model).
  const [first, second] = CONV_FILTERS[arch];
  model.add(tf.layers.conv2d({ inputShape: [28, 28, 1], filters: first, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.conv2d({ filters: second, kernelSize: 3, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.maxPooling2d({ poolSize: 2 }));
  model.add(tf.layers.flatten());
  model.add(tf.layers.dense({ units: 128, activation: 'relu', kernelInitializer: he() }));
  model.add(tf.layers.dropout({ rate: 0.25 }));
  model.add(tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: glorot() }));
  return model;
}
