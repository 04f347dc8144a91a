// Request/reply over a pub/sub with partitions (a stand-in for Kafka's, driven by hand): which partition a
// request goes to, and how a late one is hedged. Deadlines and hedges run on a fake clock the tests move.
import { expect, test } from 'bun:test';
import { RequestReply, type PubSub } from '../../../src/adapters/transport/request-reply.ts';
import { HEADER, RequestTimeoutError, type Delivery, type Handler, type OutgoingMessage } from '../../../src/adapters/transport/transport.ts';
import { FakeClock } from '../../helpers/fake-clock.ts';

const LANES = 4;

async function withPartitions() {
  const published: { topic: string; message: OutgoingMessage }[] = [];
  let inbox: Handler | null = null;
  const pubsub: PubSub = {
    async publish(topic, message) {
      published.push({ topic, message });
    },
    async subscribe(_topic, _options, handler) {
      inbox = handler;
      return { unsubscribe: async () => {} };
    },
    lanesOf: (topic) => (topic === 'work' ? LANES : null),
  };
  const clock = new FakeClock();
  const requests = new RequestReply(pubsub, 'test', clock);
  await requests.start();
  /** Replies to the n-th published message as a consumer reading it from its lane would. */
  const answer = (n: number, text = 'done') => {
    const { message } = published[n]!;
    const delivery: Delivery = { topic: 'work', attempt: 1, key: message.key, value: message.value, headers: message.headers ?? {}, ...(message.lane === undefined ? {} : { lane: message.lane }) };
    return requests.reply(delivery, { value: new TextEncoder().encode(text) });
  };
  /** Hands the replies published so far to the inbox. */
  const deliverReplies = async () => {
    for (const { topic, message } of published.splice(0).filter((p) => p.topic === requests.inbox)) {
      await inbox!({ topic, attempt: 1, key: message.key, value: message.value, headers: message.headers ?? {} });
    }
  };
  return { requests, published, answer, deliverReplies, clock };
}

const text = (value: Uint8Array) => new TextDecoder().decode(value);
const message = (n: number): OutgoingMessage => ({ key: `k${n}`, value: new TextEncoder().encode(`request ${n}`) });

test('requests go round the partitions; a reply names the partition its request was read from, and who answered', async () => {
  const { requests, published, answer } = await withPartitions();
  for (let n = 0; n < 5; n++) void requests.request('work', message(n), 1_000).catch(() => {});
  expect(published.map((p) => p.message.lane)).toEqual([0, 1, 2, 3, 0]);
  await answer(2);
  expect(published.at(-1)!.message.headers?.[HEADER.lane]).toBe('2');
  expect(published.at(-1)!.message.headers?.[HEADER.member]).toBe('test');
  await requests.close();
});

test('a request with no reply in time is hedged once, to the partition that answered last; the first reply wins', async () => {
  const { requests, published, answer, deliverReplies, clock } = await withPartitions();
  // Lane 1 answers; lane 0 has gone quiet.
  const warm = [requests.request('work', message(0), 1_000), requests.request('work', message(1), 1_000)];
  await answer(1);
  await deliverReplies();
  expect(text((await warm[1]!).value)).toBe('done');
  published.length = 0;

  let asked = 0;
  const hedged = requests.request('work', message(2), 2_000, { hedgeAfterMs: 50, mayHedge: () => ++asked > 0 });
  expect(published.map((p) => p.message.lane)).toEqual([2]);
  clock.advance(49);
  expect(published).toHaveLength(1);
  clock.advance(1);
  expect(asked).toBe(1);
  // Under the same correlation id, to lane 1; and once: all the clock still holds is the two deadlines
  // (this request's and the unanswered one's on lane 0), no further hedge.
  expect(published.map((p) => p.message.lane)).toEqual([2, 1]);
  expect(clock.pending).toBe(2);
  expect(published[1]!.message.headers?.[HEADER.correlationId]).toBe(published[0]!.message.headers?.[HEADER.correlationId]);
  expect(text(published[1]!.message.value)).toBe('request 2');
  await answer(1, 'from the hedge');
  await answer(0, 'from the original, late');
  await deliverReplies();
  expect(text((await hedged).value)).toBe('from the hedge');
  // The partition that stalled is passed over for new requests now.
  published.length = 0;
  for (let n = 3; n < 9; n++) void requests.request('work', message(n), 1_000).catch(() => {});
  expect(published.map((p) => p.message.lane)).not.toContain(2);
  void warm[0]!.catch(() => {});
  await requests.close();
});

test('no hedge when the caller\'s budget says no, nor when the deadline comes first', async () => {
  const { requests, published, clock } = await withPartitions();
  let asked = 0;
  const outcomes = [
    requests.request('work', message(0), 150, { hedgeAfterMs: 30, mayHedge: () => ++asked < 0 }),
    requests.request('work', message(1), 100, { hedgeAfterMs: 100 }),
  ].map((request) => request.catch((e: unknown) => e));
  clock.advance(150);
  for (const outcome of await Promise.all(outcomes)) expect(outcome).toBeInstanceOf(RequestTimeoutError);
  // The first hedge was due and refused; both requests are over, so no hedge can follow.
  expect(asked).toBe(1);
  expect(clock.pending).toBe(0);
  expect(published).toHaveLength(2);
  await requests.close();
});
