// The consumer seen through the transport: redeliveries store one result, poison goes to the dead-letter
// topic, and the consumer keeps answering.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { decodeJson, encodeBatch, type BatchReply } from '../../src/protocol/messages.ts';
import { TOPIC } from '../../src/protocol/topics.ts';
import { onlyReply } from '../helpers/prediction-messages.ts';
import { MemoryBroker, MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { HEADER, deadLetterTopic, type Delivery } from '../../src/adapters/transport/transport.ts';
import { startLocal } from '../helpers/local-stratus.ts';
import { waitFor } from '../helpers/wait.ts';

describe('consumer', () => {
  const broker = new MemoryBroker({ maxAttempts: 2, retryDelayMs: 5 });
  const store = new PouchStore({ adapter: 'memory', directory: `consumer-${crypto.randomUUID()}` });
  // A second "process" on the same broker, sending as a gateway would.
  const client = new MemoryTransport(broker);
  let stratus: Awaited<ReturnType<typeof startLocal>>;

  beforeAll(async () => {
    stratus = await startLocal([], { transport: new MemoryTransport(broker), store });
    await client.start();
  });
  afterAll(async () => {
    await client.close();
    await stratus.stop();
  });

  const request = (id: string, count = 1) =>
    encodeBatch([{ id, count, pixels: new Float32Array(784 * count), sentAt: Date.now(), sessionId: 'session-1' }]);

  test('a redelivered request is answered again but stored once', async () => {
    const value = request('same-id');
    const first = onlyReply((await client.request(TOPIC.predictions, { key: 'same-id', value }, 5_000)).value);
    const second = onlyReply((await client.request(TOPIC.predictions, { key: 'same-id', value }, 5_000)).value);
    expect(second.digits).toEqual(first.digits);
    expect((await store.getResult('same-id'))?.digits).toEqual(first.digits);
    expect((await store.sessionHistory('session-1', 10)).filter((r) => r.id === 'same-id')).toHaveLength(1);
  });

  test('a message that is not a prediction request ends on the dead-letter topic', async () => {
    const dead: Delivery[] = [];
    await client.subscribe(deadLetterTopic(TOPIC.predictions), { group: 'test-dlq' }, async (m) => void dead.push(m));
    await client.publish(TOPIC.predictions, { key: 'junk', value: new TextEncoder().encode('not a request') });
    await waitFor(() => dead.length === 1);
    expect(dead[0]?.headers[HEADER.deadLetterReason]).toMatch(/header|shorter|JSON/);
    const after = onlyReply((await client.request(TOPIC.predictions, { key: 'after', value: request('after') }, 5_000)).value);
    expect(after.digits).toHaveLength(1);
  });

  test('a request with several images gets one answer per image, in order', async () => {
    const reply = onlyReply((await client.request(TOPIC.predictions, { key: 'multi', value: request('multi', 5) }, 5_000)).value);
    expect(reply.digits).toHaveLength(5);
    expect(reply.probabilities).toHaveLength(50);
  });

  test('a batch from a gateway gets one reply holding each request\'s answer, and each result is stored', async () => {
    const requests = [1, 3, 2].map((count, i) => ({ id: `batched-${i}`, count, pixels: new Float32Array(784 * count), sentAt: Date.now() }));
    const reply = decodeJson<BatchReply>((await client.request(TOPIC.predictions, { key: 'batched-0', value: encodeBatch(requests) }, 5_000)).value);
    expect(reply.replies.map((r) => [r.id, r.digits.length, r.probabilities.length])).toEqual([
      ['batched-0', 1, 10],
      ['batched-1', 3, 30],
      ['batched-2', 2, 20],
    ]);
    // The consumer replies and stores side by side: the write may land just after the reply.
    for (const answer of reply.replies) await waitFor(async () => (await store.getResult(answer.id))?.digits.join() === answer.digits.join(), 5_000);
  });
});

describe('consumer whose reply fails', () => {
  // The first reply to each request fails to send, as when a broker drops out for a moment.
  class FirstReplyFails extends MemoryTransport {
    readonly failedOnce = new Set<string>();
    override async reply(request: Delivery, message: Parameters<MemoryTransport['reply']>[1]): Promise<void> {
      if (!this.failedOnce.has(request.key)) {
        this.failedOnce.add(request.key);
        throw new Error('reply topic unreachable');
      }
      return super.reply(request, message);
    }
  }
  const broker = new MemoryBroker({ maxAttempts: 3, retryDelayMs: 5 });
  const store = new PouchStore({ adapter: 'memory', directory: `consumer-reply-${crypto.randomUUID()}` });
  const flaky = new FirstReplyFails(broker);
  const client = new MemoryTransport(broker);
  let stratus: Awaited<ReturnType<typeof startLocal>>;

  beforeAll(async () => {
    stratus = await startLocal([], { transport: flaky, store });
    await client.start();
  });
  afterAll(async () => {
    await client.close();
    await stratus.stop();
  });

  test('a reply that could not be sent means a redelivery, so the caller still gets its answer', async () => {
    const value = encodeBatch([{ id: 'lost-reply', count: 1, pixels: new Float32Array(784), sentAt: Date.now() }]);
    const answer = onlyReply((await client.request(TOPIC.predictions, { key: 'lost-reply', value }, 5_000)).value);
    expect(flaky.failedOnce.has('lost-reply')).toBe(true);
    expect(answer.id).toBe('lost-reply');
    expect((await store.getResult('lost-reply'))?.digits).toEqual(answer.digits);
  });
});
