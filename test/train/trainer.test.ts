// A short real training run: the files it writes are a model the consumer can load and serve.
import { expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Classifier } from '../../src/model/classifier.ts';
import { readModelDirectory } from '../../src/model/model-source.ts';
import { argmax } from '../../src/model/shape.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { TRAIN_DEFAULTS, train, type TrainEvent, type TrainResult } from '../../src/train/trainer.ts';
import { MNIST_DIR } from '../helpers/data.ts';

test('train() writes a servable model that scores > 85 % on the test set from 3,000 samples', async () => {
  const outDir = await mkdtemp(join(tmpdir(), 'stratus-train-'));
  try {
    const events: TrainEvent[] = [];
    const result = await train(
      { ...TRAIN_DEFAULTS, mnistDir: MNIST_DIR, arch: 'seed', epochs: 1, maxSamples: 3000, outDir },
      (event) => events.push(event),
    );
    expect(events.map((event) => event.kind)).toEqual(['start', 'epoch', 'tested', 'saved']);
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) expect(await Bun.file(join(outDir, file)).exists()).toBe(true);

    const metadata = (await Bun.file(join(outDir, 'metadata.json')).json()) as TrainResult;
    expect(metadata).toEqual(result);
    expect(metadata).toMatchObject({ arch: 'seed', epochs: 1, trainSamples: 3000, validationSamples: 6000, backend: 'wasm' });
    expect(metadata.testAccuracy).toBeGreaterThan(0.85);

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
}, 30_000);

test('an aborted run rejects and writes nothing', async () => {
  const outDir = join(tmpdir(), `stratus-train-aborted-${crypto.randomUUID()}`);
  const controller = new AbortController();
  controller.abort(new Error('stop now'));
  const run = train({ ...TRAIN_DEFAULTS, mnistDir: MNIST_DIR, arch: 'seed', epochs: 1, maxSamples: 500, outDir, signal: controller.signal }, () => {});
  await expect(run).rejects.toThrow('stop now');
  expect(await Bun.file(join(outDir, 'model.json')).exists()).toBe(false);
});
