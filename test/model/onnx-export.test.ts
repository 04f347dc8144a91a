// Every architecture the trainer builds exports to ONNX and computes there what it computes in tfjs;
// a layer or setting the exporter does not handle is refused by name.
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, test } from 'bun:test';
import { Classifier } from '../../src/model/classifier.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { OnnxClassifier } from '../../src/model/onnx/onnx-classifier.ts';
import { OnnxExportError } from '../../src/model/onnx/onnx-export-error.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { PIXELS } from '../../src/protocol/image.ts';
import { ARCHS, buildModel } from '../../src/train/architectures.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { compareClassifiers, modelSourceOf } from '../helpers/onnx-comparison.ts';

/** 200 MNIST test digits and 56 images of uniform noise: real strokes, and values no digit has. */
function testImages(): Float32Array {
  const digits = loadSplit(MNIST_DIR, 'test').images.subarray(1000 * PIXELS, 1200 * PIXELS);
  const images = new Float32Array(256 * PIXELS);
  images.set(digits);
  let state = 12345;
  for (let i = digits.length; i < images.length; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    images[i] = state / 2 ** 32;
  }
  return images;
}

async function expectSameOnBoth(model: tf.LayersModel, version: string, images: Float32Array): Promise<number> {
  const source = await modelSourceOf(model, version);
  const tfjs = await Classifier.load(source);
  const onnx = await OnnxClassifier.load(source);
  try {
    const { maxDifference } = await compareClassifiers(tfjs, onnx, images);
    expect(maxDifference).toBeLessThanOrEqual(1e-4);
    return maxDifference;
  } finally {
    tfjs.dispose();
    await onnx.dispose();
  }
}

async function exportError(layers: tf.layers.Layer[]): Promise<OnnxExportError> {
  const model = tf.sequential({ layers });
  const source = await modelSourceOf(model, 'unsupported');
  model.dispose();
  try {
    exportToOnnx(source);
  } catch (error) {
    if (error instanceof OnnxExportError) return error;
    throw error;
  }
  throw new Error('the export succeeded');
}

beforeAll(() => initWasmBackend());

describe('each architecture, untrained and seeded, on onnxruntime and on tfjs', () => {
  const images = testImages();
  for (const arch of ARCHS) {
    test(`${arch}: the same probabilities within 1e-4 on 256 images`, async () => {
      const model = buildModel(arch, 7);
      const difference = await expectSameOnBoth(model, `${arch}-untrained`, images);
      console.log(`${arch} (untrained, seed 7): max |Δp| ${difference.toExponential(2)}`);
      model.dispose();
    }, 20_000);
  }

  test('a dense model on flat [784] images, and one that flattens the image first', async () => {
    const flat = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [PIXELS], units: 32, activation: 'relu', kernelInitializer: tf.initializers.heUniform({ seed: 1 }) }),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) })],
    });
    const flattening = tf.sequential({
      layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) })],
    });
    expect(exportToOnnx(await modelSourceOf(flat, 'flat')).inputShape).toEqual([PIXELS]);
    await expectSameOnBoth(flat, 'flat', images);
    await expectSameOnBoth(flattening, 'flattening', images);
    flat.dispose();
    flattening.dispose();
  });

  test('the image is cut to the rows and columns the windows read, and the probabilities stay the same', async () => {
    const he = (seed: number) => tf.initializers.heUniform({ seed });
    // 28 → conv 5 stride 2 → 12 (reads 27), pool 3 → 4 (reads 12 of 12), conv 2 dilation 2 → 2 (reads 4): 27 of 28.
    const strided = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 5, strides: 2, activation: 'relu', kernelInitializer: he(4) }),
        tf.layers.maxPooling2d({ poolSize: 3 }),
        tf.layers.conv2d({ filters: 4, kernelSize: 2, dilationRate: 2, activation: 'relu', kernelInitializer: he(5) }),
        tf.layers.flatten(),
        tf.layers.dense({ units: 10, activation: 'softmax', kernelInitializer: tf.initializers.glorotUniform({ seed: 6 }) }),
      ],
    });
    const exported = exportToOnnx(await modelSourceOf(strided, 'strided'));
    expect(exported.inputShape).toEqual([28, 28, 1]);
    // The same maps as from the whole image (a stride of 2 over 27 or 28 rows gives 12 either way), made
    // from a cut one.
    expect(exported.layerShapes.slice(0, 3)).toEqual([[12, 12, 4], [4, 4, 4], [2, 2, 4]]);
    expect(new TextDecoder().decode(exported.bytes)).toContain('crop_unread_edges');
    // The noise images put values in the last row and column: a cut taken from the wrong side would show.
    await expectSameOnBoth(strided, 'strided', images);
    strided.dispose();
    const lean = buildModel('lean', 7);
    expect(exportToOnnx(await modelSourceOf(lean, 'lean')).layerShapes[0]).toEqual([24, 24, 16]);
    lean.dispose();
  });
});

describe('what the export refuses, by name', () => {
  test('a layer class it has no converter for', async () => {
    const error = await exportError([
      tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, name: 'normalised_conv' }),
      tf.layers.batchNormalization({ name: 'the_batch_norm' }),
    ]);
    expect(error.message).toBe(
      'layer the_batch_norm is a BatchNormalization, which the ONNX export does not support (it supports InputLayer, Dropout, Conv2D, MaxPooling2D, Flatten, Dense)',
    );
  });

  test('a setting of a supported layer it does not implement', async () => {
    const same = await exportError([tf.layers.conv2d({ inputShape: [28, 28, 1], filters: 4, kernelSize: 3, padding: 'same', name: 'padded' })]);
    expect(same.message).toBe('layer padded (Conv2D) has padding "same"; the ONNX export supports only "valid"');
    const tanh = await exportError([tf.layers.dense({ inputShape: [PIXELS], units: 10, activation: 'tanh', name: 'squashed' })]);
    expect(tanh.message).toBe('layer squashed (Dense) uses activation "tanh"; the ONNX export supports linear, relu and softmax');
  });

  test('a Dense layer on an unflattened map', async () => {
    const error = await exportError([tf.layers.dense({ inputShape: [28, 28, 1], units: 10, name: 'per_pixel' })]);
    expect(error.message).toContain('layer per_pixel (Dense) reads a 28×28×1 map');
  });
});
