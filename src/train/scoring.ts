// Scores a model in inference mode on some samples of a split: the validation hold-out after every
// epoch, the test set at the end.
import * as tf from '@tensorflow/tfjs';
import { makeBatch } from './batches.ts';
import type { MnistSplit } from './mnist.ts';

export interface SplitScore {
  /** Mean cross-entropy. */
  readonly loss: number;
  readonly accuracy: number;
  /** The predicted digit of each image, in the order of `indices`. */
  readonly predicted: Uint8Array;
}

/** Scores the model (inference mode) on `indices` of `split`. */
export function scoreSplit(model: tf.LayersModel, split: MnistSplit, indices: Uint32Array): SplitScore {
  const predicted = new Uint8Array(indices.length);
  let correct = 0;
  let lossSum = 0;
  for (let i = 0; i < indices.length; i += 1000) {
    const { x, y } = makeBatch(split, indices, i, Math.min(indices.length, i + 1000));
    const [labels, loss] = tf.tidy(() => {
      const probabilities = model.predict(x) as tf.Tensor;
      return [probabilities.argMax(-1).dataSync(), tf.metrics.categoricalCrossentropy(y, probabilities).sum().dataSync()[0]!] as const;
    });
    lossSum += loss;
    for (let j = 0; j < labels.length; j++) {
      predicted[i + j] = labels[j]!;
      if (split.labels[indices[i + j]!] === labels[j]) correct++;
    }
    x.dispose();
    y.dispose();
  }
  return { loss: lossSum / Math.max(1, indices.length), accuracy: correct / Math.max(1, indices.length), predicted };
}
