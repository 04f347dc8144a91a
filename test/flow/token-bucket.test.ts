import { expect, test } from 'bun:test';
import { TokenBucket } from '../../src/flow/token-bucket.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const takes = (bucket: TokenBucket, tries: number) => Array.from({ length: tries }, () => bucket.take()).filter(Boolean).length;

test('a full bucket gives its capacity at once, then what grows back at the rate', () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(5, 2, clock);
  expect(bucket.full).toBe(true);
  expect(takes(bucket, 8)).toBe(5);
  expect(bucket.full).toBe(false);
  clock.advance(1_000);
  expect(takes(bucket, 8)).toBe(2);
  // Never more than the capacity, however long it rests.
  clock.advance(60_000);
  expect(bucket.full).toBe(true);
  expect(takes(bucket, 8)).toBe(5);
});

test('an empty bucket says how long until the next token', () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(1, 0.2, clock);
  expect(bucket.waitMs()).toBe(0);
  bucket.take();
  expect(bucket.waitMs()).toBe(5_000);
  clock.advance(3_000);
  expect(bucket.waitMs()).toBe(2_000);
  clock.advance(2_000);
  expect(bucket.waitMs()).toBe(0);
  expect(bucket.take()).toBe(true);
});

test('spending past what is there leaves a debt: nothing is given until it has grown back', () => {
  const clock = new FakeClock();
  const bucket = new TokenBucket(10, 10, clock);
  expect(bucket.take()).toBe(true);
  bucket.spend(29); // 9 there, 29 spent: 20 owed
  expect(bucket.take()).toBe(false);
  expect(bucket.waitMs()).toBe(2_100);
  clock.advance(2_100);
  expect(bucket.take()).toBe(true);
  expect(bucket.take()).toBe(false);
});
