// The page's in-memory hold of recent predictions' pixels (for feedback): bounded by images and by age.
import { expect, test } from 'bun:test';
import { RecentPredictions } from '../../src/http/recent-predictions.ts';

const entry = (requestId: string, digits: number[], sessionId = 's-1') => ({
  requestId,
  sessionId,
  digits,
  modelVersion: 'm',
  pixels: new Float32Array(digits.length * 784).fill(digits.length),
});

test('holds a prediction for its own session only', () => {
  const recent = new RecentPredictions();
  recent.remember(entry('a', [1, 2]));
  expect(recent.get('a', 's-1')?.digits).toEqual([1, 2]);
  expect(recent.get('a', 's-2')).toBeNull();
  expect(recent.get('b', 's-1')).toBeNull();
  expect(recent.holds('a')).toBe(true);
});

test('beyond the image bound the oldest predictions go first', () => {
  const recent = new RecentPredictions({ maxImages: 5, maxAgeMs: 60_000 });
  recent.remember(entry('a', [1, 2]));
  recent.remember(entry('b', [3, 4]));
  recent.remember(entry('c', [5, 6]));
  expect(recent.holds('a')).toBe(false);
  expect(recent.holds('b')).toBe(true);
  expect(recent.holds('c')).toBe(true);
  expect(recent.size).toEqual({ predictions: 2, images: 4 });
  // A prediction larger than the whole bound is not held at all (and evicts nothing).
  recent.remember(entry('huge', [1, 2, 3, 4, 5, 6]));
  expect(recent.holds('huge')).toBe(false);
  expect(recent.size.predictions).toBe(2);
});

test('predictions older than the age bound are dropped', () => {
  let now = 1_000;
  const recent = new RecentPredictions({ maxImages: 100, maxAgeMs: 500 }, () => now);
  recent.remember(entry('a', [1]));
  now = 1_400;
  recent.remember(entry('b', [1]));
  now = 1_600;
  expect(recent.holds('a')).toBe(false);
  expect(recent.holds('b')).toBe(true);
  now = 2_000;
  expect(recent.get('b', 's-1')).toBeNull();
  expect(recent.size).toEqual({ predictions: 0, images: 0 });
});

test('a session can be forgotten (Clear Predictions) without touching others', () => {
  const recent = new RecentPredictions();
  recent.remember(entry('a', [1], 's-1'));
  recent.remember(entry('b', [1], 's-2'));
  recent.forgetSession('s-1');
  expect(recent.holds('a')).toBe(false);
  expect(recent.holds('b')).toBe(true);
});

test('pixels must match the digits', () => {
  const recent = new RecentPredictions();
  expect(() => recent.remember({ ...entry('a', [1, 2]), pixels: new Float32Array(784) })).toThrow();
});
