import { expect, test } from 'bun:test';
import { KeyedBuckets } from '../../src/flow/keyed-buckets.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

test('each key has its own bucket', () => {
  const clock = new FakeClock();
  const buckets = new KeyedBuckets({ burst: 2, perSecond: 1 }, 100, clock);
  expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([true, true, false]);
  expect(buckets.take('b')).toBe(true);
  expect(buckets.waitMs('a')).toBe(1_000);
  expect(buckets.waitMs('never seen')).toBe(0);
  clock.advance(1_000);
  expect(buckets.take('a')).toBe(true);
});

test('memory stays bounded: full buckets go first, then the oldest; a busy key is not forgotten while room is made from others', () => {
  const clock = new FakeClock();
  const buckets = new KeyedBuckets({ burst: 1, perSecond: 0.001 }, 8, clock);
  buckets.take('busy');
  for (let i = 0; i < 100; i++) buckets.take(`passer-by ${i}`);
  expect(buckets.size).toBeLessThanOrEqual(8);
  // Every bucket here is empty, so the oldest went first: 'busy' among them, and it starts over.
  expect(buckets.take('busy')).toBe(true);

  const recovering = new KeyedBuckets({ burst: 1, perSecond: 1 }, 8, clock);
  recovering.take('held');
  for (let i = 0; i < 6; i++) recovering.take(`early ${i}`);
  clock.advance(5_000); // all of them full again…
  recovering.take('held'); // …but this one, emptied just now
  for (let i = 0; i < 4; i++) recovering.take(`late ${i}`);
  expect(recovering.take('held')).toBe(false);
});
