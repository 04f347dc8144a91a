// The smallest model the registry takes, written by hand in the tfjs layers format: one Dense layer from
// the 784 pixels to the 10 digits. For tests that publish versions and care what happens to them, not
// what they read (its weights are made up: consumers would refuse it at the smoke check).
import { CLASSES, PIXELS } from '../../src/protocol/image.ts';

export interface LayerJson {
  readonly class_name: string;
  readonly config: Record<string, unknown>;
}

export interface WeightJson {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: 'float32';
}

/** model.json of a Sequential model with these layers and weights (weights.bin in manifest order). */
export function sequentialModelJson(layers: readonly LayerJson[], weights: readonly WeightJson[]): Record<string, unknown> {
  return {
    format: 'layers-model',
    modelTopology: { class_name: 'Sequential', config: { name: 'tiny', layers } },
    weightsManifest: [{ paths: ['weights.bin'], weights }],
  };
}

/** One Dense layer, softmax over the digits, `weights` filling kernel then bias. */
export function tinyModel(fill: (i: number) => number = (i) => ((i * 37) % 101) / 1000): { modelJson: Record<string, unknown>; weightsBin: Uint8Array } {
  const modelJson = sequentialModelJson(
    [{ class_name: 'Dense', config: { name: 'dense', units: CLASSES, activation: 'softmax', use_bias: true, batch_input_shape: [null, PIXELS] } }],
    [
      { name: 'dense/kernel', shape: [PIXELS, CLASSES], dtype: 'float32' },
      { name: 'dense/bias', shape: [CLASSES], dtype: 'float32' },
    ],
  );
  const values = Float32Array.from({ length: PIXELS * CLASSES + CLASSES }, (_, i) => fill(i));
  return { modelJson, weightsBin: new Uint8Array(values.buffer) };
}
