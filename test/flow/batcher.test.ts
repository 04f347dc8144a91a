import { describe, expect, test } from 'bun:test';
import { Batcher } from '../../src/flow/batcher.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

function setup(maxBatch: number, maxWaitMs: number) {
  const clock = new FakeClock();
  const batches: string[][] = [];
  const batcher = new Batcher<string>({ maxBatch, maxWaitMs, clock }, async (items) => void batches.push(items));
  return { clock, batches, batcher };
}

describe('dynamic batching', () => {
  test('a full batch runs at once, without waiting', () => {
    const { batches, batcher, clock } = setup(3, 10);
    for (const item of ['a', 'b', 'c', 'd']) batcher.add(item, 1);
    expect(batches).toEqual([['a', 'b', 'c']]);
    expect(batcher.waiting).toBe(1);
    clock.advance(10);
    expect(batches).toEqual([['a', 'b', 'c'], ['d']]);
  });

  test('a partial batch runs when its oldest item has waited maxWaitMs', () => {
    const { batches, batcher, clock } = setup(64, 5);
    batcher.add('a', 1);
    clock.advance(3);
    batcher.add('b', 1);
    clock.advance(1);
    expect(batches).toEqual([]);
    clock.advance(1);
    expect(batches).toEqual([['a', 'b']]);
    expect(clock.pending).toBe(0);
  });

  test('size counts images: one big request fills a batch alone', () => {
    const { batches, batcher } = setup(64, 5);
    batcher.add('small', 1);
    batcher.add('kserve-100', 100);
    expect(batches).toEqual([['small', 'kserve-100']]);
  });

  test('maxWaitMs 0 means no batching', () => {
    const { batches, batcher } = setup(64, 0);
    batcher.add('a', 1);
    batcher.add('b', 1);
    expect(batches).toEqual([['a'], ['b']]);
  });

  test('drain runs what is pending and waits for batches in progress', async () => {
    const finished: string[] = [];
    const batcher = new Batcher<string>({ maxBatch: 10, maxWaitMs: 1000 }, async (items) => {
      await Bun.sleep(20);
      finished.push(...items);
    });
    batcher.add('a', 1);
    batcher.add('b', 1);
    await batcher.drain();
    expect(finished).toEqual(['a', 'b']);
  });

  test('with maxRunning, items that arrive while batches run wait and go together when one ends', async () => {
    const batches: string[][] = [];
    const ends: Array<() => void> = [];
    const batcher = new Batcher<string>({ maxBatch: 64, maxWaitMs: 0, maxRunning: 1 }, (items) => {
      batches.push(items);
      return new Promise<void>((resolve) => ends.push(resolve));
    });
    batcher.add('a', 1);
    batcher.add('b', 1);
    batcher.add('c', 1);
    expect(batches).toEqual([['a']]);
    expect(batcher.waiting).toBe(2);
    ends[0]!();
    await Bun.sleep(0);
    expect(batches).toEqual([['a'], ['b', 'c']]);
    ends[1]!();
    await batcher.drain();
    expect(batches).toEqual([['a'], ['b', 'c']]);
  });

  test('a held-back backlog still runs in batches of at most maxBatch images', async () => {
    const batches: string[][] = [];
    let release: () => void = () => {};
    const batcher = new Batcher<string>({ maxBatch: 2, maxWaitMs: 5, maxRunning: 1 }, (items) => {
      batches.push(items);
      return new Promise<void>((resolve) => (release = resolve));
    });
    for (const item of ['a', 'b', 'c', 'd', 'e']) batcher.add(item, 1);
    expect(batches).toEqual([['a', 'b']]);
    while (batcher.waiting > 0) {
      release();
      await Bun.sleep(0);
    }
    release();
    await batcher.drain();
    expect(batches).toEqual([['a', 'b'], ['c', 'd'], ['e']]);
  });
});
