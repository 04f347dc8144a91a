// The one batching primitive, policy by policy: alone at low load, together under load, full batches at
// once, never stalled behind stuck batches, spaced by an interval, and cut at the size limit.
import { describe, expect, test } from 'bun:test';
import { Batcher, type BatchPolicy } from '../../src/flow/batcher.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

interface Item {
  readonly id: string;
  readonly size: number;
}

/** A batcher whose batches stay out until the test ends them. */
function setup(policy: Partial<BatchPolicy> = {}) {
  const clock = new FakeClock();
  const batches: { ids: string[]; end: () => void }[] = [];
  const batcher = new Batcher<Item>(
    { maxSize: 64, maxRunning: 2, ...policy },
    (items) =>
      new Promise<void>((resolve) => {
        batches.push({ ids: items.map((item) => item.id), end: resolve });
      }),
    (item) => item.size,
    clock,
  );
  const add = (...ids: string[]) => ids.forEach((id) => batcher.add({ id, size: 1 }));
  const sent = () => batches.map((batch) => batch.ids);
  return { clock, batches, batcher, add, sent };
}

describe('Batcher', () => {
  test('at low load each item leaves on the next turn; what arrived in the same turn leaves together', async () => {
    const { add, sent, batches } = setup();
    add('a');
    expect(sent()).toEqual([]);
    await nextTurn();
    batches[0]?.end();
    add('b', 'c');
    await nextTurn();
    expect(sent()).toEqual([['a'], ['b', 'c']]);
  });

  test('with lingerMs the first item waits that long for company', async () => {
    const { add, sent, clock } = setup({ lingerMs: 5 });
    add('a');
    clock.advance(3);
    add('b');
    await nextTurn();
    clock.advance(1);
    expect(sent()).toEqual([]);
    clock.advance(1);
    expect(sent()).toEqual([['a', 'b']]);
    expect(clock.pending).toBe(0);
  });

  test('a full batch leaves at once, without waiting for the turn or the linger', () => {
    const { batcher, sent } = setup({ maxSize: 3, lingerMs: 10 });
    for (const id of ['a', 'b', 'c', 'd']) batcher.add({ id, size: 1 });
    expect(sent()).toEqual([['a', 'b', 'c']]);
    expect(batcher.waiting).toBe(1);
  });

  test('a batch holds the oldest items within maxSize; one item bigger than that leaves alone', async () => {
    const { batcher, sent } = setup({ maxSize: 4, maxRunning: 8 });
    batcher.add({ id: 'a', size: 2 });
    batcher.add({ id: 'b', size: 1 });
    batcher.add({ id: 'c', size: 2 }); // 5 ≥ 4: leaves at once, cut at the limit
    batcher.add({ id: 'big', size: 9 });
    await nextTurn();
    expect(sent()).toEqual([['a', 'b'], ['c'], ['big']]);
  });

  test('while maxRunning batches are out, new items hold back and leave as one batch when one ends', async () => {
    const { add, sent, batches, clock } = setup({ maxRunning: 2, maxHoldMs: 5 });
    add('a', 'b');
    await nextTurn();
    add('c');
    await nextTurn();
    add('d', 'e');
    await nextTurn();
    expect(sent()).toEqual([['a', 'b'], ['c']]);
    expect(clock.pending).toBe(1); // the hold timer, in case neither batch returns
    batches[0]?.end();
    await nextTurn();
    expect(sent()).toEqual([['a', 'b'], ['c'], ['d', 'e']]);
    expect(clock.pending).toBe(0);
  });

  test('an item held behind stuck batches leaves after maxHoldMs, whatever is out', async () => {
    const { add, sent, clock } = setup({ maxRunning: 1, maxHoldMs: 5 });
    add('stuck');
    await nextTurn();
    add('held');
    await nextTurn();
    clock.advance(4);
    expect(sent()).toEqual([['stuck']]);
    clock.advance(1);
    expect(sent()).toEqual([['stuck'], ['held']]);
  });

  test('without maxHoldMs, held items wait for a batch to end however long it takes', async () => {
    const { add, sent, clock, batches } = setup({ maxRunning: 1 });
    add('a');
    await nextTurn();
    add('b');
    clock.advance(60_000);
    await nextTurn();
    expect(sent()).toEqual([['a']]);
    batches[0]?.end();
    await nextTurn();
    expect(sent()).toEqual([['a'], ['b']]);
  });

  test('with minIntervalMs, batches that follow closely wait out the interval and go as one', async () => {
    const { add, sent, batches, clock } = setup({ maxRunning: 1, minIntervalMs: 40 });
    add('a');
    await nextTurn();
    batches[0]?.end();
    await nextTurn();
    clock.advance(10);
    add('b');
    await nextTurn();
    clock.advance(20);
    add('c');
    await nextTurn();
    expect(sent()).toEqual([['a']]);
    clock.advance(10);
    expect(sent()).toEqual([['a'], ['b', 'c']]);
    batches[1]?.end();
    await nextTurn();
    // After a quiet spell longer than the interval, an item leaves on the next turn.
    clock.advance(100);
    add('d');
    await nextTurn();
    expect(sent()).toEqual([['a'], ['b', 'c'], ['d']]);
  });

  test('drain starts what is queued and waits for every batch out', async () => {
    const finished: string[] = [];
    const batcher = new Batcher<string>({ maxSize: 10, maxRunning: 1, lingerMs: 1000 }, async (items) => {
      // A batch that takes a while, as a slow peer's would: drain has to wait for it, not just start it.
      await Bun.sleep(10);
      finished.push(...items);
    });
    batcher.add('a');
    batcher.add('b');
    await batcher.drain();
    expect(finished).toEqual(['a', 'b']);
    expect(batcher.waiting).toBe(0);
  });

  test('takeQueued hands back what has not left, and nothing of it leaves later', async () => {
    const { add, sent, batcher } = setup({ maxRunning: 1 });
    add('a');
    await nextTurn();
    add('b', 'c');
    expect(batcher.takeQueued().map((item) => item.id)).toEqual(['b', 'c']);
    await nextTurn();
    expect(sent()).toEqual([['a']]);
  });

  test('a batch whose run throws does not stop the ones after it', async () => {
    let calls = 0;
    const batcher = new Batcher<string>({ maxSize: 1, maxRunning: 1 }, (items) => {
      calls++;
      if (items[0] === 'bad') throw new Error('refused');
      return Promise.resolve();
    });
    batcher.add('bad');
    batcher.add('good');
    await batcher.drain().catch(() => {});
    await batcher.drain();
    expect(calls).toBe(2);
  });
});
