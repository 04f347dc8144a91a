// The embedded model served by onnxruntime reads every MNIST test digit as the tfjs Classifier does.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { Classifier } from '../../src/model/classifier.ts';
import { readEmbeddedModel } from '../../src/model/model-source.ts';
import { OnnxClassifier } from '../../src/model/onnx/onnx-classifier.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { PIXELS } from '../../src/protocol/image.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { compareClassifiers } from '../helpers/onnx-comparison.ts';

const mnist = loadSplit(MNIST_DIR, 'test');

describe('the embedded model on onnxruntime', () => {
  let tfjs: Classifier;
  let onnx: OnnxClassifier;

  beforeAll(async () => {
    await initWasmBackend();
    const source = await readEmbeddedModel();
    tfjs = await Classifier.load(source);
    onnx = await OnnxClassifier.load(source);
  });

  afterAll(async () => {
    tfjs.dispose();
    await onnx.dispose();
  });

  test('gives the digit tfjs gives on all 10,000 MNIST test digits, probabilities within 1e-4', async () => {
    const agreement = await compareClassifiers(tfjs, onnx, mnist.images);
    console.log(`embedded model, onnxruntime vs tfjs wasm: same digit on ${agreement.sameDigit}/${agreement.images}, max |Δp| ${agreement.maxDifference.toExponential(2)}`);
    expect(agreement.images).toBe(10_000);
    expect(agreement.sameDigit).toBe(10_000);
    expect(agreement.maxDifference).toBeLessThanOrEqual(1e-4);
  }, 60_000);

  test('has the Classifier surface: the source version, and the image count checked', async () => {
    expect(onnx.version).toBe(tfjs.version);
    await expect(onnx.predict(new Float32Array(PIXELS), 2)).rejects.toThrow(`expected ${2 * PIXELS} values, got ${PIXELS}`);
    const probabilities = await onnx.predict(new Float32Array(2 * PIXELS), 2);
    expect(probabilities).toHaveLength(20);
  });

  test('takes the number of threads a prediction may use', async () => {
    const twoThreads = await OnnxClassifier.load(await readEmbeddedModel(), { intraOpNumThreads: 2 });
    const images = mnist.images.subarray(0, 64 * PIXELS);
    const [split, single] = [await twoThreads.predict(images, 64), await onnx.predict(images, 64)];
    expect(Math.max(...split.map((p, i) => Math.abs(p - (single[i] as number))))).toBeLessThanOrEqual(1e-6);
    await twoThreads.dispose();
  });
});
