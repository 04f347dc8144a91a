// The model directory the trainer writes: model.onnx beside the tfjs files, computing what they compute;
// and, for a model the ONNX export cannot handle, the directory without it (the save still succeeds).
import * as tf from '@tensorflow/tfjs';
import { afterEach, beforeAll, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier } from '../../src/model/classifier.ts';
import { readModelDirectory } from '../../src/model/model-source.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { OnnxClassifier } from '../../src/model/onnx/onnx-classifier.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { PIXELS } from '../../src/protocol/image.ts';
import { buildModel } from '../../src/train/architectures.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { serializeModel, writeModelDirectory } from '../../src/train/save-model.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { compareClassifiers } from '../helpers/onnx-comparison.ts';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-save-model-'));
  dirs.push(dir);
  return dir;
}

beforeAll(() => initWasmBackend());
afterEach(async () => {
  for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
});

test('writes a model.onnx that onnxruntime loads and that gives the probabilities of the tfjs files within 1e-4 on 100 MNIST digits', async () => {
  const dir = await freshDir();
  const model = buildModel('lean', 11);
  const written = await writeModelDirectory(dir, await serializeModel(model), { version: 'lean-saved' });
  model.dispose();
  expect(written.onnxSkipped).toBeNull();

  const source = await readModelDirectory(dir);
  expect(source.modelOnnx).toBeDefined();
  // The file is the export of the tfjs files it lies beside.
  expect(Buffer.from(source.modelOnnx!).equals(exportToOnnx(source).bytes)).toBe(true);
  const tfjs = await Classifier.load(source);
  const onnx = await OnnxClassifier.load(source);
  try {
    const digits = loadSplit(MNIST_DIR, 'test').images.subarray(0, 100 * PIXELS);
    const agreement = await compareClassifiers(tfjs, onnx, digits);
    expect(agreement.images).toBe(100);
    expect(agreement.maxDifference).toBeLessThanOrEqual(1e-4);
  } finally {
    tfjs.dispose();
    await onnx.dispose();
  }
}, 30_000);

test('a model the ONNX export cannot handle is saved without model.onnx, with the reason, and an older model.onnx there is removed', async () => {
  const dir = await freshDir();
  // Left by an earlier run into the same directory: served beside the new weights, it would answer for them.
  await writeFile(join(dir, 'model.onnx'), new Uint8Array([1, 2, 3]));
  const model = tf.sequential({
    layers: [tf.layers.flatten({ inputShape: [28, 28, 1] }), tf.layers.batchNormalization({ name: 'unexportable' }), tf.layers.dense({ units: 10, activation: 'softmax' })],
  });
  const written = await writeModelDirectory(dir, await serializeModel(model), { version: 'odd-saved' });
  model.dispose();
  expect(written.onnxSkipped).toContain('layer unexportable is a BatchNormalization');
  for (const file of ['model.json', 'weights.bin', 'metadata.json']) expect(await Bun.file(join(dir, file)).exists()).toBe(true);
  expect(await Bun.file(join(dir, 'model.onnx')).exists()).toBe(false);
  const source = await readModelDirectory(dir);
  expect(source.version).toBe('odd-saved');
  expect('modelOnnx' in source).toBe(false);
});
