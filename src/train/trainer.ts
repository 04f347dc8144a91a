// One training run on the tfjs wasm backend, from the MNIST files to a model directory that
// `--model DIR` serves. Used by the trainer role (src/actors/trainer.ts) and by
// scripts/train-default-model.ts. 10% of the training set (a seeded draw) is held out for
// validation; the 10k test set is scored once, at the end.
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from '../model/wasm-backend.ts';
import type { ArchName } from './arch-names.ts';
import { buildModel } from './architectures.ts';
import { loadMnist } from './mnist.ts';
import { reloadModel, serializeModel, writeModelDirectory } from './save-model.ts';
import { accuracy, range, seededRandom, shuffle, timeInference, trainEpoch } from './train-loop.ts';
import { registerWasmTrainingKernels } from './wasm-kernels.ts';

export interface TrainOptions {
  readonly mnistDir: string;
  readonly arch: ArchName;
  readonly epochs: number;
  readonly batchSize: number;
  /** Training samples per epoch at most; null trains on all that the validation hold-out leaves. */
  readonly maxSamples: number | null;
  readonly seed: number;
  readonly learningRate: number;
  /** The learning rate is multiplied by this after every epoch. */
  readonly lrDecay: number;
  readonly outDir: string;
  /** Aborting stops the run between two batches; train() then rejects and writes nothing. */
  readonly signal?: AbortSignal;
}

/** The recipe of models/default/, minus what a caller must choose (data, arch, output). */
export const TRAIN_DEFAULTS = { epochs: 6, batchSize: 64, seed: 42, learningRate: 0.001, lrDecay: 0.7 } as const;

export type TrainEvent =
  | { kind: 'start'; arch: ArchName; params: number; trainSamples: number; validationSamples: number; epochs: number; batchSize: number }
  | { kind: 'epoch'; epoch: number; epochs: number; loss: number; validationAccuracy: number; seconds: number; samplesPerSecond: number }
  | { kind: 'tested'; testAccuracy: number; trainingSeconds: number }
  | { kind: 'saved'; outDir: string; weightsBytes: number; inferenceMs: { batch1: number; batch64: number } };

/** What metadata.json holds. */
export interface TrainResult {
  readonly version: string;
  readonly arch: ArchName;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly lrDecay: number;
  readonly trainSamples: number;
  readonly validationSamples: number;
  readonly validationAccuracy: number;
  readonly testAccuracy: number;
  readonly trainedAt: string;
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  readonly backend: 'wasm';
  readonly params: number;
  readonly weightsBytes: number;
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
}

export async function train(options: TrainOptions, log: (event: TrainEvent) => void): Promise<TrainResult> {
  const { arch, epochs, batchSize, seed, learningRate, lrDecay, signal } = options;
  // initWasmBackend reads the embedded .wasm files, so this also works inside the compiled binary.
  await initWasmBackend();
  registerWasmTrainingKernels();
  if (tf.getBackend() !== 'wasm') await tf.setBackend('wasm');

  const data = loadMnist(options.mnistDir);
  const random = seededRandom(seed);
  const all = range(data.train.count);
  shuffle(all, random);
  const validationCount = Math.round(data.train.count * 0.1);
  const validationIndices = all.slice(0, validationCount);
  const available = data.train.count - validationCount;
  const trainIndices = all.slice(validationCount, validationCount + Math.min(options.maxSamples ?? available, available));
  const testIndices = range(data.test.count);

  const model = buildModel(arch, seed);
  const optimizer = tf.train.adam(learningRate);
  // AdamOptimizer keeps learningRate protected but reads it on every step; decaying it in place
  // keeps the moment estimates, which rebuilding the optimizer per epoch would throw away.
  const setLearningRate = (rate: number) => {
    (optimizer as unknown as { learningRate: number }).learningRate = rate;
  };
  try {
    log({ kind: 'start', arch, params: model.countParams(), trainSamples: trainIndices.length, validationSamples: validationCount, epochs, batchSize });
    const started = performance.now();
    let trainMs = 0;
    for (let epoch = 0; epoch < epochs; epoch++) {
      setLearningRate(learningRate * lrDecay ** epoch);
      shuffle(trainIndices, random);
      const epochStarted = performance.now();
      const loss = await trainEpoch(model, optimizer, data.train, trainIndices, batchSize, signal);
      const ms = performance.now() - epochStarted;
      trainMs += ms;
      const validationAccuracy = accuracy(model, data.train, validationIndices);
      const samplesPerSecond = Math.round(trainIndices.length / (ms / 1000));
      log({ kind: 'epoch', epoch: epoch + 1, epochs, loss, validationAccuracy, seconds: ms / 1000, samplesPerSecond });
    }
    const trainingSeconds = (performance.now() - started) / 1000;
    const validationAccuracy = accuracy(model, data.train, validationIndices);
    const testAccuracy = accuracy(model, data.test, testIndices);
    log({ kind: 'tested', testAccuracy, trainingSeconds });

    const files = await serializeModel(model);
    const reloaded = await reloadModel(files);
    try {
      const reloadedAccuracy = accuracy(reloaded, data.test, testIndices);
      if (reloadedAccuracy !== testAccuracy) throw new Error(`the saved model scores ${reloadedAccuracy}, the trained one ${testAccuracy}`);
      const inferenceMs = { batch1: +timeInference(reloaded, 1).toFixed(3), batch64: +timeInference(reloaded, 64).toFixed(3) };
      const now = new Date();
      const result: TrainResult = {
        version: `${arch}-${now.toISOString().slice(0, 10).replaceAll('-', '')}`,
        arch,
        epochs,
        batchSize,
        seed,
        learningRate,
        lrDecay,
        trainSamples: trainIndices.length,
        validationSamples: validationCount,
        validationAccuracy,
        testAccuracy,
        trainedAt: now.toISOString(),
        trainingSeconds: Math.round(trainingSeconds),
        samplesPerSecond: Math.round((trainIndices.length * epochs) / (trainMs / 1000)),
        backend: 'wasm',
        params: model.countParams(),
        weightsBytes: files.weights.byteLength,
        inferenceMs,
      };
      signal?.throwIfAborted();
      await writeModelDirectory(options.outDir, files, result);
      log({ kind: 'saved', outDir: options.outDir, weightsBytes: files.weights.byteLength, inferenceMs });
      return result;
    } finally {
      reloaded.dispose();
    }
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}
