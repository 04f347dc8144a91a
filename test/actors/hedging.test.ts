// How long the gateway waits before a hedge, and how many it allows.
import { expect, test } from 'bun:test';
import { HedgePolicy } from '../../src/actors/hedging.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

test('the wait is the floor until round trips are slow, then four times their recent p99', () => {
  const policy = new HedgePolicy({ floorMs: 250, ceilingMs: 1_000, maxPerSecond: 50 }, new FakeClock());
  expect(policy.delayMs()).toBe(250);
  for (let i = 0; i < 512; i++) policy.record(20);
  expect(policy.delayMs()).toBe(250);
  // Slow round trips (overload, not a failure) lengthen it: hedging then would only add work.
  for (let i = 0; i < 512; i++) policy.record(i < 500 ? 100 : 200);
  expect(policy.recentP99Ms).toBe(200);
  expect(policy.delayMs()).toBe(800);
  // Fast again: the old samples age out of the window.
  for (let i = 0; i < 512; i++) policy.record(10);
  expect(policy.delayMs()).toBe(250);
});

test('the wait never passes the ceiling, however slow round trips get', () => {
  const policy = new HedgePolicy({ floorMs: 250, ceilingMs: 1_000, maxPerSecond: 50 }, new FakeClock());
  // Round trips just under each wait would otherwise raise it fourfold at every recompute.
  for (let round = 0; round < 4; round++) {
    const wait = policy.delayMs() as number;
    for (let i = 0; i < 512; i++) policy.record(wait - 1);
  }
  expect(policy.recentP99Ms).toBe(999);
  expect(policy.delayMs()).toBe(1_000);
  // A ceiling below the floor: the floor holds.
  expect(new HedgePolicy({ floorMs: 2_000, ceilingMs: 1_000, maxPerSecond: 50 }).delayMs()).toBe(2_000);
});

test('a floor of 0 turns hedging off', () => {
  expect(new HedgePolicy({ floorMs: 0, ceilingMs: 1_000, maxPerSecond: 50 }).delayMs()).toBeUndefined();
});

test('the budget allows a second of hedges at once, then refills at the rate', () => {
  const clock = new FakeClock();
  const policy = new HedgePolicy({ floorMs: 250, ceilingMs: 1_000, maxPerSecond: 10 }, clock);
  const taken = (n: number) => Array.from({ length: n }, () => policy.take()).filter(Boolean).length;
  expect(taken(15)).toBe(10);
  clock.advance(500);
  expect(taken(15)).toBe(5);
  clock.advance(10_000);
  expect(taken(15)).toBe(10);
});
