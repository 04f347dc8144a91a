// A short real training run on one thread (runTraining): the files it writes are a model the consumer
// can load and serve.
import { expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier } from '../../src/model/classifier.ts';
import { readModelDirectory } from '../../src/model/model-source.ts';
import { argmax } from '../../src/protocol/image.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_MD5 } from '../../src/train/mnist-download.ts';
import type { TrainingReport } from '../../src/train/report.ts';
import type { TrainEvent } from '../../src/train/events.ts';
import { TRAIN_DEFAULTS } from '../../src/train/recipe.ts';
import type { TrainResult } from '../../src/train/run-records.ts';
import { runTraining } from '../../src/train/run.ts';
import { VERSION } from '../../src/version.ts';
import { MNIST_DIR } from '../helpers/data.ts';

test('runTraining writes a servable model that scores > 85 % on the test set from 3,000 samples', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'stratus-train-'));
  try {
    const events: TrainEvent[] = [];
    const result = await runTraining({ ...TRAIN_DEFAULTS, mnistDir: MNIST_DIR, arch: 'seed', epochs: 1, maxSamples: 3000, outDir }, {}, (event) => events.push(event));
    expect(result).not.toBeNull();
    const batches = events.filter((event) => event.kind === 'batch');
    expect(batches).toHaveLength(Math.ceil(3000 / TRAIN_DEFAULTS.batchSize));
    expect(events.filter((event) => event.kind !== 'batch').map((event) => event.kind)).toEqual(['start', 'epoch', 'tested', 'saved']);
    const lastBatch = batches.at(-1)!;
    expect(lastBatch).toMatchObject({ epoch: 1, epochs: 1, batch: batches.length, batches: batches.length, samples: 3000 });
    const epoch = events.find((event) => event.kind === 'epoch')!;
    if (epoch.kind !== 'epoch' || lastBatch.kind !== 'batch') throw new Error('unreachable');
    expect(epoch.accuracy).toBe(lastBatch.accuracy);
    expect(epoch.accuracy).toBeGreaterThan(0.5);
    for (const file of ['model.json', 'weights.bin', 'model.onnx', 'metadata.json', 'report.json']) expect(await Bun.file(join(outDir, file)).exists()).toBe(true);

    const metadata = (await Bun.file(join(outDir, 'metadata.json')).json()) as TrainResult;
    expect(metadata).toEqual(result!);
    expect(metadata).toMatchObject({ arch: 'seed', epochs: 1, trainSamples: 3000, validationSamples: 6000, backend: 'wasm' });
    expect(metadata.testAccuracy).toBeGreaterThan(0.85);

    const report = (await Bun.file(join(outDir, 'report.json')).json()) as TrainingReport;
    expect(report).toMatchObject({
      kind: 'stratus-training-report',
      codeVersion: VERSION,
      modelVersion: metadata.version,
      arch: 'seed',
      testAccuracy: metadata.testAccuracy,
      validationAccuracy: metadata.validationAccuracy,
      testSamples: 10000,
      hyperParameters: { epochs: 1, batchSize: TRAIN_DEFAULTS.batchSize, seed: TRAIN_DEFAULTS.seed, maxSamples: 3000, augment: false },
      data: { trainSamples: 3000, validationSamples: 6000, md5: MNIST_MD5 },
    });
    // The matrix accounts for every test image, and its diagonal is the accuracy.
    expect(report.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(10000);
    expect(report.confusionMatrix.reduce((sum, row, d) => sum + row[d]!, 0) / 10000).toBe(report.testAccuracy);
    expect(report.perClassAccuracy).toHaveLength(10);
    expect(report.history).toHaveLength(1);
    expect(report.history[0]).toMatchObject({ epoch: 1, learningRate: TRAIN_DEFAULTS.learningRate, valAccuracy: metadata.validationAccuracy });
    expect(report.history[0]!.valLoss).toBeGreaterThan(0);
    expect(report.history[0]!.samplesPerSecond).toBeGreaterThan(0);
    expect(report.wallSeconds).toBeGreaterThanOrEqual(report.trainingSeconds);
    // One name and one training time per run, wherever they are written or said.
    expect(metadata.version).toMatch(/^seed-\d{8}-\d{6}$/);
    const tested = events.find((event) => event.kind === 'tested');
    expect(tested?.kind === 'tested' && tested.trainingSeconds).toBe(metadata.trainingSeconds);
    expect(report.trainingSeconds).toBe(metadata.trainingSeconds);
    expect(metadata.trainingSeconds).toBeGreaterThan(0);

    const source = await readModelDirectory(outDir);
    expect(source.version).toBe(metadata.version);
    const classifier = await Classifier.load(source);
    const test = loadSplit(MNIST_DIR, 'test');
    const count = 200;
    const probabilities = classifier.predict(test.images.subarray(0, count * 784), count);
    let correct = 0;
    for (let i = 0; i < count; i++) if (argmax(probabilities, i * 10, 10) === test.labels[i]) correct++;
    expect(correct / count).toBeGreaterThan(0.8);
    classifier.dispose();
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}, 120_000); // ~20 s alone; the CPU is shared

test('an aborted run rejects and writes nothing', async () => {
  const outDir = join(tmpdir(), `stratus-train-aborted-${crypto.randomUUID()}`);
  const controller = new AbortController();
  controller.abort(new Error('stop now'));
  const run = runTraining({ ...TRAIN_DEFAULTS, mnistDir: MNIST_DIR, arch: 'seed', epochs: 1, maxSamples: 500, outDir }, { signal: controller.signal }, () => {});
  await expect(run).rejects.toThrow('stop now');
  expect(await Bun.file(join(outDir, 'model.json')).exists()).toBe(false);
});
