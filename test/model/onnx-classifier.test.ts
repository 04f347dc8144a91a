// The embedded model served by onnxruntime reads every MNIST test digit as the tfjs Classifier does; a
// version's own model.onnx is what serves when it has one, and one that is not a classifier is refused.
import * as tf from '@tensorflow/tfjs';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier } from '../../src/model/classifier.ts';
import { loadOnEngine } from '../../src/model/load-on-engine.ts';
import { readEmbeddedModel, readModelDirectory, type ModelSource } from '../../src/model/model-source.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { OnnxClassifier } from '../../src/model/onnx/onnx-classifier.ts';
import { encodeOnnxModel } from '../../src/model/onnx/onnx-model-encoder.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { PIXELS } from '../../src/protocol/image.ts';
import { buildModel } from '../../src/train/architectures.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { serializeModel, writeModelDirectory } from '../../src/train/save-model.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { compareClassifiers, modelSourceOf } from '../helpers/onnx-comparison.ts';

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

describe("a version's own model.onnx", () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  /** The largest |a − b| of two classifiers' probabilities on 100 MNIST test digits. */
  async function farthest(a: { predict(images: Float32Array, n: number): Float32Array | Promise<Float32Array> }, b: typeof a): Promise<number> {
    const digits = mnist.images.subarray(0, 100 * PIXELS);
    const [pa, pb] = [await a.predict(digits, 100), await b.predict(digits, 100)];
    return Math.max(...pa.map((p, i) => Math.abs(p - (pb[i] as number))));
  }

  test('is what serves from a model directory, not an export of its tfjs files', async () => {
    await initWasmBackend();
    const dir = await mkdtemp(join(tmpdir(), 'stratus-onnx-dir-'));
    dirs.push(dir);
    const [written, other] = [buildModel('lean', 1), buildModel('lean', 2)];
    await writeModelDirectory(dir, await serializeModel(written), { version: 'lean-seed-1' });
    // Another seed's weights in model.onnx: if it serves, the answers are seed 2's, not those of the tfjs files.
    const otherSource = await modelSourceOf(other, 'lean-seed-2');
    await writeFile(join(dir, 'model.onnx'), exportToOnnx(otherSource).bytes);
    written.dispose();
    other.dispose();

    const served = await loadOnEngine('onnx', await readModelDirectory(dir));
    const tfjsFiles = await Classifier.load(await readModelDirectory(dir));
    const otherTfjs = await Classifier.load(otherSource);
    try {
      expect(served.version).toBe('lean-seed-1');
      expect(await farthest(served, otherTfjs)).toBeLessThanOrEqual(1e-4);
      expect(await farthest(served, tfjsFiles)).toBeGreaterThan(1e-2);
    } finally {
      await served.dispose();
      tfjsFiles.dispose();
      otherTfjs.dispose();
    }
  }, 30_000);

  test('is refused, saying what it takes and gives, unless it takes images and gives 10 probabilities', async () => {
    const source = await readEmbeddedModel();
    const loadWith = (modelOnnx: Uint8Array) => OnnxClassifier.load({ ...source, version: 'odd', modelOnnx } satisfies ModelSource);
    const renamed = encodeOnnxModel({
      irVersion: 8,
      opsetVersion: 13,
      producerName: 'test',
      producerVersion: '0',
      docString: 'pixels in, the same pixels out',
      graph: {
        name: 'renamed',
        nodes: [{ opType: 'Identity', inputs: ['pixels'], outputs: ['scores'], name: 'copy' }],
        initializers: [],
        inputs: [{ name: 'pixels', shape: ['batch', PIXELS] }],
        outputs: [{ name: 'scores', shape: ['batch', PIXELS] }],
      },
    });
    await expect(loadWith(renamed)).rejects.toThrow(
      'model odd: its ONNX model takes float32 pixels [batch, 784] and gives float32 scores [batch, 784]; ' +
        'a classifier takes float32 images [batch, 28, 28, 1] or [batch, 784] and gives float32 probabilities [batch, 10]',
    );

    const fiveClasses = tf.sequential({ layers: [tf.layers.dense({ inputShape: [PIXELS], units: 5, activation: 'softmax' })] });
    const fiveSource = await modelSourceOf(fiveClasses, 'five');
    fiveClasses.dispose();
    await expect(loadWith(exportToOnnx(fiveSource).bytes)).rejects.toThrow('gives float32 probabilities [batch, 5]; a classifier');

    await expect(loadWith(new TextEncoder().encode('not an ONNX model at all'))).rejects.toThrow('model odd: its model.onnx does not load in ONNX Runtime: ');
  });
});
