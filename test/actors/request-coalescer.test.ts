// The gateway's batching: alone at low load, together under load, never stalled behind a stuck batch,
// and every request answered with its own reply (or its batch's failure).
import { describe, expect, test } from 'bun:test';
import type { PredictionReply, PredictionRequest } from '../../src/protocol/messages.ts';
import { MissingReplyError, RequestCoalescer } from '../../src/actors/request-coalescer.ts';
import { FakeClock } from '../helpers/fake-clock.ts';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const request = (id: string, count = 1): PredictionRequest => ({ id, count, pixels: new Float32Array(784 * count), sentAt: 0 });
const answer = (r: PredictionRequest): PredictionReply => ({ id: r.id, digits: [r.count], probabilities: [], modelVersion: 'v' });

/** A send whose batches stay outstanding until the test answers them. */
function setup(options: { maxImages?: number; maxOutstanding?: number; maxHoldMs?: number } = {}) {
  const clock = new FakeClock();
  const batches: { ids: string[]; answer: (replies?: PredictionReply[]) => void; fail: (error: Error) => void }[] = [];
  const coalescer = new RequestCoalescer(
    (requests) =>
      new Promise<PredictionReply[]>((resolve, reject) => {
        batches.push({ ids: requests.map((r) => r.id), answer: (replies) => resolve(replies ?? requests.map(answer)), fail: reject });
      }),
    { maxImages: options.maxImages ?? 64, maxOutstanding: options.maxOutstanding ?? 2, maxHoldMs: options.maxHoldMs ?? 5, clock },
  );
  return { clock, batches, coalescer };
}

describe('request coalescer', () => {
  test('at low load each request leaves on the next turn, alone', async () => {
    const { batches, coalescer } = setup();
    const first = coalescer.submit(request('a'));
    await nextTurn();
    const second = coalescer.submit(request('b'));
    await nextTurn();
    expect(batches.map((b) => b.ids)).toEqual([['a'], ['b']]);
    batches.forEach((b) => b.answer());
    expect((await first).id).toBe('a');
    expect((await second).id).toBe('b');
  });

  test('requests of the same turn leave together', async () => {
    const { batches, coalescer } = setup();
    for (const id of ['a', 'b', 'c']) void coalescer.submit(request(id));
    await nextTurn();
    expect(batches.map((b) => b.ids)).toEqual([['a', 'b', 'c']]);
  });

  test('while maxOutstanding batches are out, new requests wait and leave as one batch when one returns', async () => {
    const { batches, coalescer, clock } = setup({ maxOutstanding: 2 });
    const replies = ['a', 'b', 'c', 'd', 'e'].map((id) => ({ id, reply: coalescer.submit(request(id)) }));
    await nextTurn();
    expect(batches.map((b) => b.ids)).toEqual([['a', 'b', 'c', 'd', 'e']]);
    void coalescer.submit(request('f'));
    await nextTurn();
    void coalescer.submit(request('g'));
    void coalescer.submit(request('h'));
    await nextTurn();
    expect(batches.map((b) => b.ids)).toEqual([['a', 'b', 'c', 'd', 'e'], ['f']]);
    expect(clock.pending).toBe(1); // the hold timer, in case neither batch returns
    batches[0]?.answer();
    for (const { id, reply } of replies) expect((await reply).id).toBe(id);
    expect(batches.map((b) => b.ids)).toEqual([['a', 'b', 'c', 'd', 'e'], ['f'], ['g', 'h']]);
    expect(clock.pending).toBe(0);
  });

  test('a request held behind stuck batches leaves after maxHoldMs', async () => {
    const { batches, coalescer, clock } = setup({ maxOutstanding: 1, maxHoldMs: 5 });
    void coalescer.submit(request('stuck'));
    await nextTurn();
    void coalescer.submit(request('held'));
    await nextTurn();
    clock.advance(4);
    expect(batches).toHaveLength(1);
    clock.advance(1);
    expect(batches.map((b) => b.ids)).toEqual([['stuck'], ['held']]);
  });

  test('a batch never holds more than maxImages, except one request bigger than that alone', async () => {
    const { batches, coalescer } = setup({ maxImages: 4, maxOutstanding: 8 });
    void coalescer.submit(request('a', 2));
    void coalescer.submit(request('b', 1));
    void coalescer.submit(request('c', 2)); // reaches 5 ≥ 4: leaves at once, split at the limit
    void coalescer.submit(request('big', 9));
    await nextTurn();
    expect(batches.map((b) => b.ids)).toEqual([['a', 'b'], ['c'], ['big']]);
  });

  test("a batch's failure fails each of its requests; a reply without a request's answer fails that one", async () => {
    const { batches, coalescer } = setup();
    const first = Promise.allSettled([coalescer.submit(request('a')), coalescer.submit(request('b'))]);
    await nextTurn();
    batches[0]?.fail(new Error('broker gone'));
    expect((await first).map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'answered'))).toEqual(['broker gone', 'broker gone']);
    const c = coalescer.submit(request('c')).catch((error: unknown) => error);
    const d = coalescer.submit(request('d'));
    await nextTurn();
    batches[1]?.answer([answer(request('d'))]);
    expect(await c).toBeInstanceOf(MissingReplyError);
    expect((await d).id).toBe('d');
  });
});
