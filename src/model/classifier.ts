// src/model/ is the served model: the engines it runs on (engines.ts: this classifier on tfjs wasm, or
// onnx/ on onnxruntime), the thread it runs in (worker-classifier.ts), where its files come from
// (model-source.ts), the smoke check, the loader and switcher a consumer swaps versions with, the registry
// of versions and publishing into it. It imports adapters, protocol and flow.
//
// A loaded tfjs layers model behind the one call the consumer needs: images in, probabilities out.
import * as tf from '@tensorflow/tfjs';
import { CLASSES, PIXELS } from '../protocol/image.ts';
import type { EngineModel } from './engines.ts';
import type { ModelSource } from './model-source.ts';

export class Classifier implements EngineModel {
  private constructor(
    readonly version: string,
    private readonly model: tf.LayersModel,
    /** [28,28,1] for a CNN, [784] for a dense model: what one image must look like to this model. */
    private readonly imageShape: number[],
  ) {}

  static async load(source: ModelSource): Promise<Classifier> {
    const json = typeof source.modelJson === 'string' ? source.modelJson : new TextDecoder().decode(source.modelJson);
    const artifacts = JSON.parse(json) as { modelTopology: object; weightsManifest?: { weights: tf.io.WeightsManifestEntry[] }[] };
    const weightSpecs = (artifacts.weightsManifest ?? []).flatMap((group) => group.weights);
    const weights = source.weightsBin;
    const weightData = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
    const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: artifacts.modelTopology, weightSpecs, weightData }));
    const inputShape = model.inputs[0]?.shape.slice(1) ?? [];
    if (inputShape.reduce<number>((n, d) => n * (d ?? 0), 1) !== PIXELS) {
      throw new Error(`model ${source.version} expects input ${JSON.stringify(inputShape)}, not one 28×28 image`);
    }
    const outputShape = (model.outputs[0]?.shape ?? []).slice(1);
    if (outputShape.length !== 1 || outputShape[0] !== CLASSES) {
      throw new Error(`model ${source.version} outputs ${JSON.stringify(outputShape)}, not ${CLASSES} class probabilities`);
    }
    const classifier = new Classifier(source.version, model, inputShape as number[]);
    // The first call compiles kernels and allocates buffers; pay for it now, not in the first request.
    classifier.predict(new Float32Array(PIXELS), 1);
    return classifier;
  }

  /** `images` holds `count` row-major 28×28 images in 0..1; returns count×10 probabilities. */
  predict(images: Float32Array, count: number): Float32Array {
    if (images.length !== count * PIXELS) throw new Error(`expected ${count * PIXELS} values, got ${images.length}`);
    return tf.tidy(() => {
      const input = tf.tensor(images, [count, ...this.imageShape], 'float32');
      const output = this.model.predict(input) as tf.Tensor;
      return output.dataSync() as Float32Array;
    });
  }

  dispose(): void {
    this.model.dispose();
  }
}
