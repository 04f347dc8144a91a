import { expect, test } from 'bun:test';
import { within } from '../../src/flow/clock.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

test('work that settles in time gives its outcome, and leaves no timer behind', async () => {
  const clock = new FakeClock();
  expect(await within(Promise.resolve('done'), 100, () => 'late', clock)).toBe('done');
  expect(await within(Promise.reject(new Error('broke')), 100, () => 'late', clock).catch((e: Error) => e.message)).toBe('broke');
  expect(clock.pending).toBe(0);
});

test('past the deadline: what onTimeout returns, or throws; settling later changes nothing', async () => {
  const clock = new FakeClock();
  const slow = Promise.withResolvers<string>();
  const fallback = within(slow.promise, 100, () => 'fallback', clock);
  const failing = within(slow.promise, 50, () => {
    throw new Error('too slow');
  }, clock);
  clock.advance(100);
  expect(await fallback).toBe('fallback');
  expect(await failing.catch((e: Error) => e.message)).toBe('too slow');
  slow.resolve('at last');
  expect(await fallback).toBe('fallback');
});
