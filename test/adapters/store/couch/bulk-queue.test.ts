// The group commit in front of _bulk_docs: what callers write while a request is out goes as one request.
import { describe, expect, test } from 'bun:test';
import { BulkQueue, type BulkRow } from '../../../../src/adapters/store/couch/bulk-queue.ts';
import { FakeClock } from '../../../helpers/fake-clock.ts';

/** A server that answers each request when the test says so, one row per document (`bad` ids fail). */
function server() {
  const requests: string[][] = [];
  const answers: Array<(fail?: Error) => void> = [];
  const send = (docs: object[]) =>
    new Promise<BulkRow[]>((resolve, reject) => {
      const ids = docs.map((doc) => (doc as { _id: string })._id);
      requests.push(ids);
      answers.push((fail) => (fail ? reject(fail) : resolve(ids.map((id) => (id.startsWith('bad') ? { id, error: 'forbidden' } : { id, ok: true })))));
    });
  return { requests, answers, send };
}

const docs = (...ids: string[]) => ids.map((_id) => ({ _id }));

describe('BulkQueue', () => {
  test('the first write goes at once; later ones wait for it and share the next request', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 100 });
    const first = queue.write(docs('a'));
    const second = queue.write(docs('b', 'bad-c'));
    const third = queue.write(docs('d'));
    expect(requests).toEqual([['a']]);
    answers[0]!();
    expect(await first).toEqual([{ id: 'a', ok: true }]);
    await Bun.sleep(0);
    expect(requests).toEqual([['a'], ['b', 'bad-c', 'd']]);
    answers[1]!();
    expect(await second).toEqual([{ id: 'b', ok: true }, { id: 'bad-c', error: 'forbidden' }]);
    expect(await third).toEqual([{ id: 'd', ok: true }]);
  });

  test('a request holds at most maxDocs documents, but a bigger write is never split', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 3 });
    const writes = [queue.write(docs('a')), queue.write(docs('b', 'c')), queue.write(docs('d', 'e')), queue.write(docs('f', 'g', 'h', 'i'))];
    for (let i = 0; i < 4; i++) {
      await Bun.sleep(0);
      answers[i]?.();
    }
    await Promise.all(writes);
    expect(requests).toEqual([['a'], ['b', 'c'], ['d', 'e'], ['f', 'g', 'h', 'i']]);
  });

  test('a failed request fails every write it carried, and the queue goes on', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 2, maxDocs: 100 });
    const [a, b] = [queue.write(docs('a')), queue.write(docs('b'))];
    const [c, d] = [queue.write(docs('c')), queue.write(docs('d'))];
    expect(requests).toEqual([['a'], ['b']]);
    answers[0]!(new Error('server gone'));
    await expect(a).rejects.toThrow('server gone');
    await Bun.sleep(0);
    expect(requests).toEqual([['a'], ['b'], ['c', 'd']]);
    answers[1]!();
    answers[2]!();
    expect(await Promise.all([b, c, d])).toEqual([[{ id: 'b', ok: true }], [{ id: 'c', ok: true }], [{ id: 'd', ok: true }]]);
  });

  test('with minIntervalMs, writes that follow a request closely wait out the interval and go as one', async () => {
    const { requests, answers, send } = server();
    const clock = new FakeClock();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 100, minIntervalMs: 40, clock });
    void queue.write(docs('a'));
    expect(requests).toEqual([['a']]);
    answers[0]!();
    await Bun.sleep(0);
    clock.advance(10);
    void queue.write(docs('b'));
    clock.advance(20);
    void queue.write(docs('c'));
    expect(requests).toEqual([['a']]);
    clock.advance(10);
    expect(requests).toEqual([['a'], ['b', 'c']]);
    answers[1]!();
    await Bun.sleep(0);
    // After a quiet spell longer than the interval, a write goes out at once.
    clock.advance(100);
    void queue.write(docs('d'));
    expect(requests).toEqual([['a'], ['b', 'c'], ['d']]);
  });
});
