// The trained model as the files `--model DIR` serves, proven before anything is written: serialized,
// loaded back the way the consumer loads it, and checked to predict what the trained model predicts.
import * as tf from '@tensorflow/tfjs';
import type { MnistSplit } from './mnist.ts';
import { reloadModel, serializeModel, type ModelFiles } from './save-model.ts';
import { scoreSplit } from './scoring.ts';

export interface PackagedModel {
  readonly files: ModelFiles;
  /** Median milliseconds of one forward pass of the reloaded model, for 1 and for 64 images. */
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
}

/** `predicted`: what the trained model answered on `indices` of `split`; the reloaded one must agree. */
export async function packageModel(model: tf.LayersModel, split: MnistSplit, indices: Uint32Array, predicted: Uint8Array): Promise<PackagedModel> {
  const files = await serializeModel(model);
  const reloaded = await reloadModel(files);
  try {
    const again = scoreSplit(reloaded, split, indices).predicted;
    if (!again.every((digit, i) => digit === predicted[i])) throw new Error('the saved model does not predict what the trained one does');
    return { files, inferenceMs: { batch1: +timeInference(reloaded, 1).toFixed(3), batch64: +timeInference(reloaded, 64).toFixed(3) } };
  } finally {
    reloaded.dispose();
  }
}

/** Median milliseconds of one forward pass over `n` blank images, after a warm-up. */
function timeInference(model: tf.LayersModel, n: number): number {
  const x = tf.zeros([n, 28, 28, 1]);
  const run = () => tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) {
    const t = performance.now();
    run();
    times.push(performance.now() - t);
  }
  x.dispose();
  return times.sort((a, b) => a - b)[times.length >> 1]!;
}
