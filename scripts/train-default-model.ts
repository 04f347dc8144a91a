/**
 * Trains a digit model on the tfjs wasm backend and writes it as a tfjs layers model:
 *   <out>/model.json, <out>/weights.bin, <out>/metadata.json
 *
 *   bun scripts/train-default-model.ts [--arch default|seed] [--epochs 6] [--batch-size 64]
 *     [--max-samples N] [--lr 0.001] [--lr-decay 0.7] [--seed 42] [--data ../shared/data/mnist] [--out models/default]
 *
 * 10% of the training set (a seeded draw) is held out for validation; the 10k test set is only
 * scored once, at the end.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { buildModel, isArchName, ARCHS } from '../src/train/architectures.ts';
import { loadMnist, IMAGE_SIZE, type MnistSplit } from '../src/train/mnist.ts';
import { registerWasmTrainingKernels } from '../src/train/wasm-kernels.ts';

const repo = resolve(import.meta.dir, '..');
const { values: opts } = parseArgs({
  options: {
    arch: { type: 'string', default: 'default' },
    epochs: { type: 'string', default: '6' },
    'batch-size': { type: 'string', default: '64' },
    'max-samples': { type: 'string' },
    lr: { type: 'string', default: '0.001' },
    'lr-decay': { type: 'string', default: '0.7' },
    seed: { type: 'string', default: '42' },
    data: { type: 'string', default: resolve(repo, '../shared/data/mnist') },
    out: { type: 'string', default: resolve(repo, 'models/default') },
  },
});
const arch = opts.arch;
if (!isArchName(arch)) throw new Error(`--arch must be one of ${ARCHS.join(', ')}, got ${arch}`);
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
};
const epochs = num('epochs', opts.epochs);
const batchSize = num('batch-size', opts['batch-size']);
const maxSamples = opts['max-samples'] === undefined ? Infinity : num('max-samples', opts['max-samples']);
const baseLr = num('lr', opts.lr);
const lrDecay = num('lr-decay', opts['lr-decay']);
const seed = num('seed', opts.seed);

/** mulberry32: tiny seeded PRNG so the split and the shuffles replay exactly. */
function rng(s: number): () => number {
  let a = s >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffle(idx: Uint32Array, rand: () => number): void {
  for (let i = idx.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
}

function batch(split: MnistSplit, idx: Uint32Array, from: number, to: number): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = to - from;
  const px = new Float32Array(n * IMAGE_SIZE);
  const oh = new Float32Array(n * 10);
  for (let i = 0; i < n; i++) {
    const k = idx[from + i]!;
    px.set(split.images.subarray(k * IMAGE_SIZE, (k + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    oh[i * 10 + split.labels[k]!] = 1;
  }
  return { x: tf.tensor4d(px, [n, 28, 28, 1]), y: tf.tensor2d(oh, [n, 10]) };
}

function accuracy(model: tf.LayersModel, split: MnistSplit, idx: Uint32Array): number {
  let correct = 0;
  for (let i = 0; i < idx.length; i += 1000) {
    const to = Math.min(idx.length, i + 1000);
    const { x, y } = batch(split, idx, i, to);
    const pred = tf.tidy(() => (model.predict(x) as tf.Tensor).argMax(-1).dataSync());
    for (let j = 0; j < pred.length; j++) if (split.labels[idx[i + j]!] === pred[j]) correct++;
    x.dispose();
    y.dispose();
  }
  return correct / idx.length;
}

registerWasmTrainingKernels();
await tf.setBackend('wasm');
await tf.ready();
tf.util.assert(tf.getBackend() === 'wasm', () => 'wasm backend failed to initialise');

const data = loadMnist(opts.data);
const rand = rng(seed);
const all = Uint32Array.from({ length: data.train.count }, (_, i) => i);
shuffle(all, rand);
const valCount = Math.round(data.train.count * 0.1);
const valIdx = all.slice(0, valCount);
const trainIdx = all.slice(valCount, valCount + Math.min(maxSamples, data.train.count - valCount));
const testIdx = Uint32Array.from({ length: data.test.count }, (_, i) => i);

const model = buildModel(arch, seed);
model.summary(undefined, undefined, (line) => console.log(line));
const optimizer = tf.train.adam(baseLr);
// AdamOptimizer keeps learningRate protected but reads it on every step; decaying it in place
// keeps the moment estimates, which rebuilding the optimizer per epoch would throw away.
const setLr = (lr: number) => { (optimizer as unknown as { learningRate: number }).learningRate = lr; };

console.log(`training ${arch} on ${trainIdx.length} samples (val ${valIdx.length}), ${epochs} epochs, batch ${batchSize}`);
const started = performance.now();
let trainMs = 0;
let samples = 0;
for (let epoch = 0; epoch < epochs; epoch++) {
  setLr(baseLr * lrDecay ** epoch);
  shuffle(trainIdx, rand);
  const t0 = performance.now();
  let lossSum = 0;
  let steps = 0;
  for (let i = 0; i < trainIdx.length; i += batchSize) {
    const { x, y } = batch(data.train, trainIdx, i, Math.min(trainIdx.length, i + batchSize));
    const loss = optimizer.minimize(() => tf.metrics.categoricalCrossentropy(y, model.apply(x, { training: true }) as tf.Tensor).mean() as tf.Scalar, true);
    lossSum += loss!.dataSync()[0]!;
    steps++;
    loss!.dispose();
    x.dispose();
    y.dispose();
  }
  const ms = performance.now() - t0;
  trainMs += ms;
  samples += trainIdx.length;
  const val = accuracy(model, data.train, valIdx);
  console.log(`epoch ${epoch + 1}/${epochs}: loss ${(lossSum / steps).toFixed(4)}, val acc ${(val * 100).toFixed(2)}%, ` +
    `${(ms / 1000).toFixed(1)} s, ${Math.round(trainIdx.length / (ms / 1000))} samples/s`);
}
const trainingSeconds = (performance.now() - started) / 1000;
const valAccuracy = accuracy(model, data.train, valIdx);
const testAccuracy = accuracy(model, data.test, testIdx);
console.log(`test accuracy ${(testAccuracy * 100).toFixed(2)}% after ${trainingSeconds.toFixed(0)} s`);

// Save through a handler rather than the file:// router, which only tfjs-node registers.
let artifacts: tf.io.ModelArtifacts | undefined;
await model.save(tf.io.withSaveHandler(async (a) => {
  artifacts = a;
  return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
}));
if (!artifacts?.weightSpecs || !artifacts.weightData) throw new Error('model.save produced no weights');
const weights = new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData));
const modelJson = {
  format: 'layers-model',
  generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
  convertedBy: null,
  modelTopology: artifacts.modelTopology,
  weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
};

// Prove the artifact round-trips before anything is written.
const reloaded = await tf.loadLayersModel(tf.io.fromMemory({
  modelTopology: modelJson.modelTopology as object, weightSpecs: artifacts.weightSpecs, weightData: weights.slice().buffer,
}));
const reloadedAcc = accuracy(reloaded, data.test, testIdx);
if (reloadedAcc !== testAccuracy) throw new Error(`reloaded model scores ${reloadedAcc}, trained one ${testAccuracy}`);

const timeInference = (n: number): number => {
  const x = tf.zeros([n, 28, 28, 1]);
  const run = () => tf.tidy(() => (reloaded.predict(x) as tf.Tensor).dataSync());
  for (let i = 0; i < 5; i++) run();
  const times: number[] = [];
  for (let i = 0; i < 30; i++) { const t = performance.now(); run(); times.push(performance.now() - t); }
  x.dispose();
  return times.sort((a, b) => a - b)[times.length >> 1]!;
};
const inferenceMs = { batch1: timeInference(1), batch64: timeInference(64) };
console.log(`inference (median, wasm): batch 1 ${inferenceMs.batch1.toFixed(2)} ms, batch 64 ${inferenceMs.batch64.toFixed(2)} ms`);

const now = new Date();
const metadata = {
  version: `default-${now.toISOString().slice(0, 10).replaceAll('-', '')}`,
  arch,
  epochs,
  batchSize,
  seed,
  learningRate: baseLr,
  lrDecay,
  trainSamples: trainIdx.length,
  validationSamples: valIdx.length,
  validationAccuracy: valAccuracy,
  testAccuracy,
  trainedAt: now.toISOString(),
  trainingSeconds: Math.round(trainingSeconds),
  samplesPerSecond: Math.round(samples / (trainMs / 1000)),
  backend: 'wasm',
  params: model.countParams(),
  weightsBytes: weights.byteLength,
  inferenceMs: { batch1: +inferenceMs.batch1.toFixed(3), batch64: +inferenceMs.batch64.toFixed(3) },
};
mkdirSync(opts.out, { recursive: true });
writeFileSync(resolve(opts.out, 'model.json'), `${JSON.stringify(modelJson)}\n`);
writeFileSync(resolve(opts.out, 'weights.bin'), weights);
writeFileSync(resolve(opts.out, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
console.log(`wrote ${opts.out} (${weights.byteLength} bytes of weights)`);
