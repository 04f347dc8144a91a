// ModelVersion.metrics comes from whatever trainer stored it: the dashboard keeps what is well formed
// and drops the rest, field by field.
import { expect, test } from 'bun:test';
import { readDashboardMetrics } from '../../src/views/dashboard-metrics.ts';

const identity = Array.from({ length: 10 }, (_, a) => Array.from({ length: 10 }, (_, p) => (a === p ? 100 : 0)));

test('a full training report is read as the trainer wrote it', () => {
  const metrics = readDashboardMetrics({
    testAccuracy: 0.9915,
    validationAccuracy: 0.991,
    testSamples: 10000,
    arch: 'default',
    params: 225034,
    trainedAt: '2026-11-25T14:03:58.407Z',
    perClassAccuracy: Array.from({ length: 10 }, () => 0.99),
    confusionMatrix: identity,
    history: [
      { epoch: 1, learningRate: 0.001, loss: 0.3, accuracy: 0.9, valLoss: 0.1, valAccuracy: 0.97, seconds: 100, samplesPerSecond: 540 },
      { epoch: 2, learningRate: 0.0007, loss: 0.1, accuracy: 0.97, valLoss: 0.05, valAccuracy: 0.985, seconds: 100, samplesPerSecond: 540 },
    ],
  });
  expect(metrics.testAccuracy).toBe(0.9915);
  expect(metrics.arch).toBe('default');
  expect(metrics.perClassAccuracy).toHaveLength(10);
  expect(metrics.confusionMatrix).toEqual(identity);
  expect(metrics.history).toEqual([
    { epoch: 1, loss: 0.3, accuracy: 0.9, valLoss: 0.1, valAccuracy: 0.97 },
    { epoch: 2, loss: 0.1, accuracy: 0.97, valLoss: 0.05, valAccuracy: 0.985 },
  ]);
});

test('missing or malformed fields are left out, not guessed', () => {
  expect(readDashboardMetrics(undefined)).toEqual({ history: [] });
  expect(readDashboardMetrics('nonsense')).toEqual({ history: [] });
  const metrics = readDashboardMetrics({
    testAccuracy: '99 %',
    validationAccuracy: 1.5,
    perClassAccuracy: [0.9, 'x'],
    confusionMatrix: [[1, 2], [3]],
    history: [null, { epoch: 'one' }, { loss: 0.2 }],
  });
  expect(metrics.testAccuracy).toBeUndefined();
  expect(metrics.validationAccuracy).toBeUndefined();
  expect(metrics.perClassAccuracy).toBeUndefined();
  expect(metrics.confusionMatrix).toBeUndefined();
  // An entry without an epoch number is numbered by its position; one with nothing measured is dropped.
  expect(metrics.history).toEqual([{ epoch: 3, loss: 0.2 }]);
});

test("the older trainer's validationAccuracy per epoch counts as valAccuracy", () => {
  expect(readDashboardMetrics({ history: [{ epoch: 1, loss: 0.4, validationAccuracy: 0.95 }] }).history).toEqual([
    { epoch: 1, loss: 0.4, valAccuracy: 0.95 },
  ]);
});
