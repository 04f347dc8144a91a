// What a model trains towards (soft-targets.ts): the schedule of learning rates, smoothed labels, and a
// teacher's answers computed by a real model on real MNIST digits.
import { expect, test } from 'bun:test';
import { resolve } from 'node:path';
import { makeBatch } from '../../src/train/batches.ts';
import { loadMnist, type MnistSplit } from '../../src/train/mnist.ts';
import { learningRateAt } from '../../src/train/recipe.ts';
import { addSoftened, trainingTargets } from '../../src/train/soft-targets.ts';
import { loadOnEngine } from '../../src/model/load-on-engine.ts';
import { readModelDirectory } from '../../src/model/model-source.ts';
import { MNIST_DIR } from '../helpers/data.ts';

const EMBEDDED = resolve(import.meta.dir, '../../models/embedded');
const firstDigits = (count: number): MnistSplit => {
  const { test: digits } = loadMnist(MNIST_DIR);
  return { images: digits.images.subarray(0, count * 784), labels: digits.labels.subarray(0, count), count };
};
const row = (targets: Float32Array, i: number) => Array.from(targets.subarray(i * 10, (i + 1) * 10));
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

test('the cosine schedule falls from the first rate through half of it to near 0; the exponential one multiplies', () => {
  const recipe = { learningRate: 0.002, lrDecay: 0.5, epochs: 10 };
  expect(learningRateAt({ ...recipe, schedule: 'cosine' }, 0)).toBe(0.002);
  expect(learningRateAt({ ...recipe, schedule: 'cosine' }, 5)).toBeCloseTo(0.001, 12);
  expect(learningRateAt({ ...recipe, schedule: 'cosine' }, 9)).toBeCloseTo(0.002 * 0.0245, 6);
  expect(learningRateAt(recipe, 3)).toBe(0.002 * 0.125);
});

test('without smoothing or teachers a run trains on its labels', async () => {
  expect(await trainingTargets(firstDigits(3), {})).toBeNull();
});

test('smoothing gives each label 1 − ε + ε/10 and the other digits ε/10', async () => {
  const split = firstDigits(4);
  const targets = (await trainingTargets(split, { labelSmoothing: 0.1 }))!;
  for (let i = 0; i < split.count; i++) {
    const expected = Array.from({ length: 10 }, (_, d) => (d === split.labels[i] ? 0.91 : 0.01));
    row(targets, i).forEach((x, d) => expect(x).toBeCloseTo(expected[d]!, 6));
  }
});

test("a teacher at full weight and temperature 1 is its own answer; at T = 2 its second choices grow", async () => {
  const split = firstDigits(16);
  const teacher = await loadOnEngine('onnx', await readModelDirectory(EMBEDDED));
  const answer = await teacher.predict(split.images, split.count);
  await teacher.dispose();
  const exact = (await trainingTargets(split, { teachers: [EMBEDDED], distillWeight: 1, distillTemperature: 1 }))!;
  for (let k = 0; k < exact.length; k++) expect(exact[k]!).toBeCloseTo(answer[k]!, 5);
  const soft = (await trainingTargets(split, { teachers: [EMBEDDED], distillWeight: 1, distillTemperature: 2 }))!;
  for (let i = 0; i < split.count; i++) {
    expect(sum(row(soft, i))).toBeCloseTo(1, 5);
    const label = split.labels[i]!;
    expect(row(soft, i)[label]!).toBeLessThan(row(exact, i)[label]!);
  }
  // Half label, half teacher: the label's share is at least one half.
  const mixed = (await trainingTargets(split, { teachers: [EMBEDDED] }))!;
  for (let i = 0; i < split.count; i++) expect(row(mixed, i)[split.labels[i]!]!).toBeGreaterThanOrEqual(0.5);
});

test('two teachers count half each', () => {
  const into = new Float32Array(10);
  addSoftened(Float32Array.from([1, 0, 0, 0, 0, 0, 0, 0, 0, 0]), into, 0, 0.5, 1);
  addSoftened(Float32Array.from([0, 1, 0, 0, 0, 0, 0, 0, 0, 0]), into, 0, 0.5, 1);
  Array.from(into.subarray(0, 3)).forEach((x, d) => expect(x).toBeCloseTo([0.5, 0.5, 0][d]!, 6));
});

test('training batches carry the targets; scoring batches, given none, carry one-hot labels', () => {
  const split = { ...firstDigits(2), targets: Float32Array.from({ length: 20 }, (_, k) => k / 100) };
  const trained = makeBatch(split, Uint32Array.of(1, 0), 0, 2, undefined, split.targets);
  expect(Array.from(trained.y.dataSync()).map((x) => Math.round(x * 100))).toEqual([...Array.from({ length: 10 }, (_, d) => 10 + d), ...Array.from({ length: 10 }, (_, d) => d)]);
  const scored = makeBatch(split, Uint32Array.of(0), 0, 1);
  expect(Array.from(scored.y.dataSync())).toEqual(Array.from({ length: 10 }, (_, d) => (d === split.labels[0] ? 1 : 0)));
  for (const t of [trained.x, trained.y, scored.x, scored.y]) t.dispose();
});
