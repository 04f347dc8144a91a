// The training step as an ONNX graph (src/train/onnx/): for every architecture, ONNX Runtime's loss,
// predictions and gradients are tfjs's, to float rounding; the dropout masks act in both passes; and a
// layer the graph does not cover is refused by name instead of trained wrongly.
import { beforeAll, describe, expect, test } from 'bun:test';
import * as tf from '@tensorflow/tfjs';
import { loadOnnxRuntime, type OnnxRuntime } from '../../../src/model/onnx/onnx-runtime.ts';
import { ARCHS, buildModel } from '../../../src/train/architectures.ts';
import { OnnxGradients } from '../../../src/train/onnx/onnx-gradients.ts';
import { buildTrainingGraph, STEP_IMAGES, STEP_LABELS, STEP_LOSS, STEP_PREDICTED, UntrainableOnOnnxError } from '../../../src/train/onnx/training-graph.ts';
import { seededRandom } from '../../../src/train/random.ts';
import { initTrainingBackend } from '../../../src/train/training-backend.ts';
import type { Batch } from '../../../src/train/step-loop.ts';

let ort: OnnxRuntime;
beforeAll(async () => {
  await initTrainingBackend('onnx');
  ort = await loadOnnxRuntime();
});

/** A batch of noise images with labels 0..9 in turn: gradients need no real digits to be compared. */
function batchOf(size: number, seed: number): Batch {
  const random = seededRandom(seed);
  const pixels = Float32Array.from({ length: size * 784 }, () => random());
  return { x: tf.tensor4d(pixels, [size, 28, 28, 1]), y: tf.oneHot(Array.from({ length: size }, (_, i) => i % 10), 10).toFloat() as tf.Tensor2D, index: 0 };
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

describe('the ONNX training graph against tfjs', () => {
  for (const arch of ARCHS) {
    test(`${arch}: the same loss, predictions and gradients (dropout off)`, async () => {
      const model = buildModel(arch, 3);
      const graph = buildTrainingGraph(model);
      const session = await ort.InferenceSession.create(graph.bytes);
      const batch = batchOf(24, 11);
      const feeds: Record<string, InstanceType<OnnxRuntime['Tensor']>> = {
        [STEP_IMAGES]: new ort.Tensor('float32', batch.x.dataSync() as Float32Array, batch.x.shape),
        [STEP_LABELS]: new ort.Tensor('float32', batch.y.dataSync() as Float32Array, batch.y.shape),
      };
      const byName = new Map(model.trainableWeights.map((w) => [w.name, w.read()]));
      for (const port of graph.weights) feeds[port.input] = new ort.Tensor('float32', byName.get(port.variable)!.dataSync() as Float32Array, [...port.shape]);
      // A mask of ones is dropout switched off, as tfjs has it outside training.
      for (const dropout of graph.dropouts) feeds[dropout.input] = new ort.Tensor('float32', new Float32Array(24 * dropout.units).fill(1), [24, dropout.units]);
      const out = await session.run(feeds);

      const probabilities = model.predict(batch.x) as tf.Tensor;
      const { value, grads } = tf.variableGrads(() => tf.metrics.categoricalCrossentropy(batch.y, model.apply(batch.x) as tf.Tensor).mean() as tf.Scalar);
      expect(Math.abs((out[STEP_LOSS]!.data as Float32Array)[0]! - value.dataSync()[0]!)).toBeLessThan(1e-5);
      expect(Array.from(out[STEP_PREDICTED]!.data as Int32Array)).toEqual(Array.from(probabilities.argMax(-1).dataSync()));
      expect(graph.weights.map((p) => p.variable)).toEqual(model.trainableWeights.map((w) => w.name));
      for (const port of graph.weights) {
        const expected = grads[port.variable]!.dataSync();
        // Gradients of order 0.1–1; float32 sums in another order differ in the 7th digit.
        expect(maxDifference(out[port.gradient]!.data as Float32Array, expected)).toBeLessThan(1e-5);
      }
      await session.release();
      tf.dispose([batch.x, batch.y, probabilities, value, ...Object.values(grads)]);
      model.dispose();
    }, 60_000);
  }
});

describe('OnnxGradients', () => {
  test('a step that drops every unit of the dropout layer leaves nothing to learn below it', async () => {
    const model = buildModel('lean', 5);
    const batch = batchOf(8, 5);
    // random() = 0 is below the rate: every unit is dropped; 0.9999 keeps every one (scaled by 1/(1 − rate)).
    const dropAll = await OnnxGradients.create(model, () => 0);
    const keepAll = await OnnxGradients.create(model, () => 0.9999);
    const dropped = await dropAll.compute(batch, true);
    const kept = await keepAll.compute(batch, true);
    const norm = (t: tf.Tensor) => tf.tidy(() => t.abs().sum().dataSync()[0]!);
    for (const w of model.trainableWeights) {
      const upstream = !w.name.startsWith(model.layers.at(-1)!.name);
      if (upstream) expect(norm(dropped.grads[w.name]!)).toBe(0);
      expect(norm(kept.grads[w.name]!)).toBeGreaterThan(0);
    }
    // The last layer still learns its bias: the logits are its bias alone, the same for every image.
    expect(norm(dropped.grads[model.trainableWeights.at(-1)!.name]!)).toBeGreaterThan(0);
    expect(dropped.predicted!.shape).toEqual([8]);
    for (const g of [dropped, kept]) tf.dispose([g.loss, g.predicted!, ...Object.values(g.grads)]);
    await dropAll.dispose();
    await keepAll.dispose();
    model.dispose();
  }, 60_000);

  test('a layer the graph does not cover is refused by name', () => {
    const same = tf.sequential({ layers: [tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' }), tf.layers.flatten(), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    expect(() => buildTrainingGraph(same)).toThrow(UntrainableOnOnnxError);
    expect(() => buildTrainingGraph(same)).toThrow(/valid, stride-1/);
    const normalised = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.batchNormalization(), tf.layers.dense({ units: 10, activation: 'softmax' })] });
    expect(() => buildTrainingGraph(normalised)).toThrow(/is a BatchNormalization, which training on ONNX Runtime does not support/);
    const noSoftmax = tf.sequential({ layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.dense({ units: 10 })] });
    expect(() => buildTrainingGraph(noSoftmax)).toThrow(/does not end in a softmax Dense layer/);
  });
});
