// CoalescingPublisher's second round: after a sequence error it renews the producer and sends again; after
// a transient failure it sends again; anything else, or a second failure, rejects. The producer here is a
// scripted stand-in (the publisher is what is under test; the real broker cases are in test/cluster/).
import { expect, test } from 'bun:test';
import type { Producer } from 'kafkajs';
import { CoalescingPublisher, isSequenceError } from '../../src/adapters/kafka-publisher.ts';

function scripted(failures: unknown[]) {
  const calls: string[] = [];
  let generation = 1;
  const producerOf = (id: number) =>
    ({
      sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: unknown[] }[] }) => {
        calls.push(`producer ${id}: ${topicMessages.map((t) => `${t.topic}×${t.messages.length}`).join(',')}`);
        const failure = failures.shift();
        if (failure) throw failure;
        return [];
      },
    }) as unknown as Producer;
  let current = producerOf(generation);
  const outcomes: boolean[] = [];
  const publisher = new CoalescingPublisher(
    {
      current: () => current,
      renew: async () => {
        current = producerOf(++generation);
      },
    },
    (ok) => outcomes.push(ok),
  );
  return { publisher, calls, outcomes };
}

const sequenceError = Object.assign(new Error('The broker received an out of order sequence number'), { type: 'OUT_OF_ORDER_SEQUENCE_NUMBER', retriable: false });
const gaveUp = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSNumberOfRetriesExceeded' });
const refused = Object.assign(new Error('Topic authorization failed'), { name: 'KafkaJSProtocolError', retriable: false });

const message = (n: number) => ({ key: `k${n}`, value: Buffer.from(`v${n}`) });

test('a sequence error renews the producer and the same batch goes out again through the new one', async () => {
  const { publisher, calls, outcomes } = scripted([sequenceError]);
  await Promise.all([publisher.publish('t', message(1)), publisher.publish('t', message(2))]);
  expect(calls).toEqual(['producer 1: t×2', 'producer 2: t×2']);
  expect(outcomes).toEqual([false, true]);
});

test('a send kafkajs gave up on is tried once more with the same producer', async () => {
  const { publisher, calls } = scripted([gaveUp]);
  await publisher.publish('t', message(1));
  expect(calls).toEqual(['producer 1: t×1', 'producer 1: t×1']);
});

test('a failure that retrying cannot fix rejects at once; a second transient failure rejects too', async () => {
  const once = scripted([refused]);
  await expect(once.publisher.publish('t', message(1))).rejects.toThrow('Topic authorization failed');
  expect(once.calls).toHaveLength(1);
  const twice = scripted([gaveUp, gaveUp]);
  await expect(twice.publisher.publish('t', message(1))).rejects.toThrow('ECONNREFUSED');
  expect(twice.calls).toHaveLength(2);
  expect(twice.outcomes.at(-1)).toBe(false);
});

test('sequence errors are recognised bare or wrapped by kafkajs', () => {
  expect(isSequenceError(sequenceError)).toBe(true);
  expect(isSequenceError(Object.assign(new Error('gave up'), { cause: sequenceError }))).toBe(true);
  expect(isSequenceError(gaveUp)).toBe(false);
  expect(isSequenceError(undefined)).toBe(false);
});
