// The group commit in front of _bulk_docs: what callers write while a request is out goes as one request,
// and each caller gets the rows of its own documents. (When batches leave is src/flow/batcher.ts's job,
// tested in test/flow/batcher.test.ts.)
import { describe, expect, test } from 'bun:test';
import { BulkQueue, type BulkRow } from '../../../../src/adapters/store/couch/bulk-queue.ts';

// The queues here are not CouchStore's (couch-store.ts: 2,048 documents a request, 200 ms apart at least):
// small batches and no pause between requests let a test see each request it makes; grouping is the same.
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

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
  test('writes made while a request is out share the next one; each gets its own rows', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 100 });
    const first = queue.submit(docs('a'));
    await nextTurn();
    const second = queue.submit(docs('b', 'bad-c'));
    const third = queue.submit(docs('d'));
    expect(requests).toEqual([['a']]);
    answers[0]!();
    expect(await first).toEqual([{ id: 'a', ok: true }]);
    await nextTurn();
    expect(requests).toEqual([['a'], ['b', 'bad-c', 'd']]);
    answers[1]!();
    expect(await second).toEqual([{ id: 'b', ok: true }, { id: 'bad-c', error: 'forbidden' }]);
    expect(await third).toEqual([{ id: 'd', ok: true }]);
  });

  test('a request holds at most maxDocs documents, but a bigger write is never split', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 3 });
    const writes = [queue.submit(docs('a')), queue.submit(docs('b', 'c')), queue.submit(docs('d', 'e')), queue.submit(docs('f', 'g', 'h', 'i'))];
    for (let i = 0; i < 4; i++) {
      await nextTurn();
      answers[i]?.();
    }
    await Promise.all(writes);
    expect(requests).toEqual([['a', 'b', 'c'], ['d', 'e'], ['f', 'g', 'h', 'i']]);
  });

  test('a failed request fails every write it carried, and the queue goes on', async () => {
    const { requests, answers, send } = server();
    const queue = new BulkQueue(send, { maxInFlight: 1, maxDocs: 100 });
    const first = Promise.allSettled([queue.submit(docs('a')), queue.submit(docs('b'))]);
    await nextTurn();
    const c = queue.submit(docs('c'));
    answers[0]!(new Error('server gone'));
    expect((await first).map((o) => (o.status === 'rejected' ? (o.reason as Error).message : 'stored'))).toEqual(['server gone', 'server gone']);
    await nextTurn();
    expect(requests).toEqual([['a', 'b'], ['c']]);
    answers[1]!();
    expect(await c).toEqual([{ id: 'c', ok: true }]);
  });

  test('an empty write resolves at once without a request', async () => {
    const { requests, send } = server();
    expect(await new BulkQueue(send, { maxInFlight: 1, maxDocs: 10 }).submit([])).toEqual([]);
    expect(requests).toEqual([]);
  });
});
