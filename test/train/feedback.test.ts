// --include-feedback: stored samples become training images (src/train/feedback.ts), and the trainer role
// reads them from the configured store.
import { afterAll, expect, test } from 'bun:test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { FeedbackSample } from '../../src/adapters/store/store.ts';
import { ConfigError, parseCli } from '../../src/config.ts';
import { Classifier } from '../../src/model/classifier.ts';
import { readModelDirectory } from '../../src/model/model-source.ts';
import { argmax, PIXELS } from '../../src/protocol/image.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { feedbackRepeat, feedbackSplit, MAX_REPEAT, mixFeedback } from '../../src/train/feedback.ts';
import type { MnistSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, REPO, runToEnd } from '../helpers/process.ts';
import { parseWriterRange } from '../helpers/writer-range.ts';

const scratch = mkdtempSync(join(tmpdir(), 'stratus-feedback-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const image = (value: number) => Array.from({ length: PIXELS }, () => value);
const sample = (label: number, pixels: number[], id = `r${label}-${pixels[0]}`): FeedbackSample => ({
  id: `${id}/0`,
  requestId: id,
  label,
  predicted: 0,
  modelVersion: 'test',
  pixels,
  createdAt: new Date().toISOString(),
  // No session: an operator's samples, which are trained on without a review (store.ts, FeedbackState).
  state: 'accepted',
});

test('feedbackSplit keeps well-formed samples and counts the rest', () => {
  const wrongLength = sample(1, image(0.5).slice(1));
  const notADigit = sample(10, image(0.5));
  const outOfRange = sample(2, [...image(0.5).slice(1), 1.5]);
  const notFinite = sample(3, [Number.NaN, ...image(0.5).slice(1)]);
  const { split, rejected } = feedbackSplit([sample(7, image(0.25)), wrongLength, notADigit, outOfRange, notFinite, sample(4, image(1))]);
  expect(rejected).toBe(4);
  expect(split.count).toBe(2);
  expect([...split.labels]).toEqual([7, 4]);
  expect(split.images[0]).toBe(0.25);
  expect(split.images[PIXELS]).toBe(1);
  expect(split.images.length).toBe(2 * PIXELS);
});

test('feedback is repeated towards a fifth of the MNIST images, at least once and at most MAX_REPEAT times', () => {
  expect(feedbackRepeat(54_000, 0)).toBe(0);
  expect(feedbackRepeat(54_000, 4_996)).toBe(2);
  expect(feedbackRepeat(54_000, 50)).toBe(MAX_REPEAT);
  expect(feedbackRepeat(100, 1_000)).toBe(1);
});

test('mixFeedback appends the images after MNIST and lists each feedback image `repeat` times', () => {
  const mnist: MnistSplit = { images: new Float32Array(3 * PIXELS).fill(0.5), labels: Uint8Array.from([1, 2, 3]), count: 3 };
  const feedback = feedbackSplit([sample(8, image(0.1)), sample(9, image(0.9))]).split;
  const mnistIndices = Uint32Array.from([2, 0]);
  const mixed = mixFeedback(mnist, mnistIndices, feedback, 3);
  expect(mixed.repeat).toBe(3);
  expect(mixed.split.count).toBe(5);
  expect([...mixed.split.labels]).toEqual([1, 2, 3, 8, 9]);
  expect(mixed.split.images[3 * PIXELS]).toBeCloseTo(0.1, 6);
  expect(mixed.split.images[4 * PIXELS + 783]).toBeCloseTo(0.9, 6);
  expect(mixed.split.images[2 * PIXELS]).toBe(0.5);
  expect([...mixed.indices]).toEqual([2, 0, 3, 4, 3, 4, 3, 4]);
  // No feedback: the MNIST split and indices themselves, so a run without it replays as before.
  const none = mixFeedback(mnist, mnistIndices, feedbackSplit([]).split);
  expect(none.split).toBe(mnist);
  expect(none.indices).toBe(mnistIndices);
});

test('--include-feedback is a trainer switch that needs a store holding the feedback', () => {
  const run = (argv: string[]) => {
    const action = parseCli(argv, {});
    if (action.kind !== 'run') throw new Error(`expected a run, got ${action.kind}`);
    return action.config;
  };
  expect(run(['--role', 'trainer']).includeFeedback).toBe(false);
  expect(run(['--role', 'trainer', '--include-feedback', '--epochs', '2'])).toMatchObject({ includeFeedback: true, epochs: 2 });
  expect(() => run(['--include-feedback'])).toThrow(new ConfigError('--include-feedback belongs to --role trainer, not --role all'));
  expect(() => run(['--role', 'trainer', '--include-feedback', '--store', 'memory'])).toThrow(/needs the store that holds the feedback/);
});

test('--init-model and --learning-rate are trainer settings', () => {
  const action = parseCli(['--role', 'trainer', '--init-model', 'models/embedded', '--learning-rate', '0.0005'], {});
  expect(action).toMatchObject({ kind: 'run', config: { initModel: 'models/embedded', learningRate: 0.0005 } });
  expect(parseCli(['--role', 'trainer'], {})).toMatchObject({ config: { initModel: null, learningRate: null } });
  expect(() => parseCli(['--role', 'trainer', '--learning-rate', '0'], {})).toThrow(/is not a number in \(0, 1\]/);
  expect(() => parseCli(['--role', 'trainer', '--learning-rate', 'fast'], {})).toThrow(/is not a number/);
  expect(() => parseCli(['--init-model', 'm'], {})).toThrow(new ConfigError('--init-model belongs to --role trainer, not --role all'));
});

test(
  '--init-model refuses a model directory of another arch before training',
  async () => {
    const out = join(scratch, 'never');
    const run = await runToEnd(['bun', MAIN, '--role', 'trainer', '--arch', 'seed', '--init-model', join(REPO, 'models/embedded'), '--mnist-dir', MNIST_DIR, '--port', '0', '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not a seed model');
    expect(existsSync(out)).toBe(false);
  },
  120_000,
);

test('parseWriterRange reads ranges and lists, and refuses writers outside 1-30', () => {
  expect(parseWriterRange('1-3,7')).toEqual([1, 2, 3, 7]);
  expect(parseWriterRange('21-30')).toHaveLength(10);
  expect(() => parseWriterRange('0-5')).toThrow(/within 1-30/);
  expect(() => parseWriterRange('5-2')).toThrow(/low to high/);
  expect(() => parseWriterRange('x')).toThrow(/not a writer number/);
});

test(
  'the trainer role learns the feedback stored under --data-dir',
  async () => {
    // A pattern MNIST never shows, labelled 3: a blank frame with a bright 6×6 square in its top-left
    // corner. Trained on 64 MNIST digits beside 200 of them for one epoch, the model can only call the
    // square a 3 if the feedback reached the training set.
    const square = image(0).map((_, i) => (i % 28 < 6 && Math.floor(i / 28) < 6 ? 1 : 0));
    const dataDir = join(scratch, 'data');
    const store = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
    await store.open();
    // Each a little different (one faint pixel far from the square): the store keeps one sample per image.
    for (let i = 0; i < 200; i++) await store.saveFeedback(sample(3, square.map((value, p) => (p === 783 ? i / 255 : value)), `square-${i}`));
    await store.saveFeedback(sample(3, image(0).slice(10), 'malformed'));
    await store.close();

    const out = join(scratch, 'model');
    // --arch seed: the whole run (training, then scoring 16,000 MNIST digits) costs a tenth of the default arch's.
    const args = ['--role', 'trainer', '--arch', 'seed', '--include-feedback', '--data-dir', dataDir, '--mnist-dir', MNIST_DIR];
    const run = await runToEnd(['bun', MAIN, ...args, '--max-samples', '64', '--epochs', '1', '--augment=false', '--port', '0', '--out', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('"samples":201');
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    expect(metadata).toMatchObject({ trainSamples: 64, feedbackSamples: 200, feedbackRepeat: 1 });

    await initWasmBackend();
    const classifier = await Classifier.load(await readModelDirectory(out));
    try {
      const probabilities = classifier.predict(Float32Array.from(square), 1);
      expect(argmax(probabilities, 0, 10)).toBe(3);
    } finally {
      classifier.dispose();
    }
  },
  400_000,
);
