// Runs the same images through the tfjs Classifier and the OnnxClassifier and says how far apart they are.
import * as tf from '@tensorflow/tfjs';
import type { Classifier } from '../../src/model/classifier.ts';
import type { ModelSource } from '../../src/model/model-source.ts';
import type { OnnxClassifier } from '../../src/model/onnx/onnx-classifier.ts';
import { argmax, CLASSES, PIXELS } from '../../src/protocol/image.ts';
import { serializeModel } from '../../src/train/save-model.ts';

export interface Agreement {
  /** The largest |tfjs − onnx| over every probability of every image. */
  readonly maxDifference: number;
  /** Images whose most probable digit is the same for both. */
  readonly sameDigit: number;
  readonly images: number;
}

export async function compareClassifiers(tfjs: Classifier, onnx: OnnxClassifier, images: Float32Array, batch = 500): Promise<Agreement> {
  const count = images.length / PIXELS;
  let maxDifference = 0;
  let sameDigit = 0;
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const slice = images.subarray(start * PIXELS, (start + n) * PIXELS);
    const expected = tfjs.predict(slice, n);
    const actual = await onnx.predict(slice, n);
    for (let i = 0; i < expected.length; i++) maxDifference = Math.max(maxDifference, Math.abs((expected[i] as number) - (actual[i] as number)));
    for (let i = 0; i < n; i++) if (argmax(expected, i * CLASSES, CLASSES) === argmax(actual, i * CLASSES, CLASSES)) sameDigit++;
  }
  return { maxDifference, sameDigit, images: count };
}

/** A model built in the test, as the files a trainer would write for it. */
export async function modelSourceOf(model: tf.LayersModel, version: string): Promise<ModelSource> {
  const files = await serializeModel(model);
  return { version, modelJson: JSON.stringify(files.modelJson), weightsBin: files.weights };
}
