// CoalescingPublisher, and the message loss it exists to prevent. The loss is replayed with
// kafkajs's real producer (its send and retry code, unchanged) on a scripted two-broker cluster: broker 2
// dies during a send, and the partition it led moves to broker 1, which had already acknowledged its part.
// The real-cluster version of this is the broker-crash scenario in test/e2e/faults.test.ts.
import { expect, test } from 'bun:test';
import { createRequire } from 'node:module';
import { KafkaJSConnectionError, type Producer, type ProducerConfig } from 'kafkajs';
import { CoalescingPublisher, PRODUCER_SETTINGS, isTransient } from '../../../../src/adapters/transport/kafka/publisher.ts';
import { FakeClock } from '../../../helpers/fake-clock.ts';
import { waitFor } from '../../../helpers/wait.ts';

// kafkajs's producer factory takes the cluster as a parameter, which lets the brokers be scripted here.
type ProducerFactory = (options: ProducerConfig & { cluster: unknown; logger: unknown }) => Producer;
const createProducer = createRequire(import.meta.url)('kafkajs/src/producer/index.js') as ProducerFactory;

interface Written {
  readonly broker: number;
  readonly partition: number;
  readonly keys: string[];
}

/** Partition 0 led by broker 1, partition 1 by broker 2; broker 2 is dead, and the cluster's metadata,
 * once refreshed, names broker 1 the new leader of partition 1. */
function clusterLosingBroker2() {
  const leaders = new Map([
    [0, 1],
    [1, 2],
  ]);
  const written: Written[] = [];
  const broker = (nodeId: number) => ({
    nodeId,
    async produce({ topicData }: { topicData: { topic: string; partitions: { partition: number; messages: { key: string }[] }[] }[] }) {
      if (nodeId === 2) throw new KafkaJSConnectionError('Connection error: broker 2 is gone');
      for (const { partitions } of topicData) {
        for (const { partition, messages } of partitions) written.push({ broker: nodeId, partition, keys: messages.map((m) => m.key) });
      }
      return {
        topics: topicData.map(({ topic, partitions }) => ({
          topicName: topic,
          partitions: partitions.map(({ partition }) => ({ partition, errorCode: 0, baseOffset: '0', logAppendTime: '-1', logStartOffset: '0' })),
        })),
      };
    },
  });
  const brokers = new Map([
    [1, broker(1)],
    [2, broker(2)],
  ]);
  const cluster = {
    retry: { initialRetryTime: 5, retries: 5 },
    connect: async () => {},
    disconnect: async () => {},
    isConnected: () => true,
    addMultipleTargetTopics: async () => {},
    refreshMetadataIfNecessary: async () => {},
    refreshMetadata: async () => void leaders.set(1, 1),
    removeBroker: () => {},
    findTopicPartitionMetadata: () => [...leaders].map(([partitionId, leader]) => ({ partitionId, leader })),
    findLeaderForPartitions: (_topic: string, partitions: string[]) => {
      const byLeader: Record<number, number[]> = {};
      for (const partition of partitions.map(Number)) (byLeader[leaders.get(partition) as number] ??= []).push(partition);
      return byLeader;
    },
    findBroker: async ({ nodeId }: { nodeId: number | string }) => brokers.get(Number(nodeId)),
  };
  const quiet = { namespace: () => quiet, debug() {}, info() {}, warn() {}, error() {} };
  const producer = (config: ProducerConfig) => createProducer({ ...config, cluster, logger: quiet });
  return { producer, written };
}

const keyed = (key: string, partition: number) => ({ key, value: Buffer.from(key), partition });

test('kafkajs left to retry on its own resolves a send whose messages for the dead broker were never written', async () => {
  const { producer, written } = clusterLosingBroker2();
  const withItsOwnRetries = producer({ retry: { retries: 5, initialRetryTime: 5 } });
  await withItsOwnRetries.connect();
  // Resolves: this is the silent loss. If kafkajs ever fixes it, this test fails, and the retry scheme in
  // publisher.ts can be reconsidered.
  await withItsOwnRetries.sendBatch({ topicMessages: [{ topic: 't', messages: [keyed('on-1', 0), keyed('on-2', 1)] }], acks: -1 });
  expect(written).toEqual([{ broker: 1, partition: 0, keys: ['on-1'] }]);
});

test('through the publisher, the same crash ends with every message written on a live leader', async () => {
  const { producer, written } = clusterLosingBroker2();
  const real = producer(PRODUCER_SETTINGS);
  await real.connect();
  const outcomes: boolean[] = [];
  const publisher = new CoalescingPublisher(() => real, (ok) => outcomes.push(ok), { firstRetryDelayMs: 5 });
  await Promise.all([publisher.publish('t', keyed('on-1', 0)), publisher.publish('t', keyed('on-2', 1))]);
  // The second attempt sent the whole batch to broker 1, now the leader of both: on-2 got written, and
  // on-1 twice (at-least-once).
  expect(written).toEqual([
    { broker: 1, partition: 0, keys: ['on-1'] },
    { broker: 1, partition: 0, keys: ['on-1'] },
    { broker: 1, partition: 1, keys: ['on-2'] },
  ]);
  expect(outcomes).toEqual([false, true]);
});

/** A producer whose sends fail with the given errors, in turn, then succeed. The publisher's pauses and
 * give-up are timed by `clock`, the real one unless a test moves a fake one. */
function scripted(failures: unknown[], clock?: FakeClock) {
  const calls: string[] = [];
  const producer = {
    sendBatch: async ({ topicMessages }: { topicMessages: { topic: string; messages: unknown[] }[] }) => {
      calls.push(topicMessages.map((t) => `${t.topic}×${t.messages.length}`).join(','));
      const failure = failures.shift();
      if (failure) throw failure;
      return [];
    },
  } as unknown as Producer;
  const outcomes: boolean[] = [];
  return {
    calls,
    outcomes,
    publisher: (giveUpAfterMs = 5_000) => new CoalescingPublisher(() => producer, (ok) => outcomes.push(ok), { giveUpAfterMs, firstRetryDelayMs: 1, ...(clock ? { clock } : {}) }),
  };
}

const gaveUp = Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSNumberOfRetriesExceeded' });
const refused = Object.assign(new Error('Topic authorization failed'), { name: 'KafkaJSNonRetriableError', retriable: false });
const message = (n: number) => ({ key: `k${n}`, value: Buffer.from(`v${n}`) });

test('publishes of one tick go out as one batch, grouped by topic', async () => {
  const { calls, publisher } = scripted([]);
  const p = publisher();
  await Promise.all([p.publish('a', message(1)), p.publish('b', message(2)), p.publish('a', message(3))]);
  expect(calls).toEqual(['a×2,b×1']);
});

test('a transient failure sends the whole batch again until it goes through', async () => {
  const { calls, outcomes, publisher } = scripted([gaveUp, gaveUp, gaveUp]);
  await publisher().publish('t', message(1));
  expect(calls).toEqual(['t×1', 't×1', 't×1', 't×1']);
  expect(outcomes).toEqual([false, false, false, true]);
});

test('a failure retrying cannot fix rejects at once; transient ones reject once the time is up', async () => {
  const once = scripted([refused]);
  await expect(once.publisher().publish('t', message(1))).rejects.toThrow('Topic authorization failed');
  expect(once.calls).toHaveLength(1);
  // On a fake clock, moved one pause at a time: the 30 ms are the publisher's own, however long the machine
  // takes between two attempts.
  const clock = new FakeClock();
  const always = scripted(Array.from({ length: 1_000 }, () => gaveUp), clock);
  let settled = false;
  const publishing = always.publisher(30).publish('t', message(1)).finally(() => (settled = true));
  publishing.catch(() => {});
  while (!settled) {
    await waitFor(() => settled || clock.pending === 1);
    if (!settled) clock.advance(1);
  }
  await expect(publishing).rejects.toThrow('ECONNREFUSED');
  expect(always.calls.length).toBeGreaterThan(1);
  expect(clock.now()).toBeGreaterThanOrEqual(30);
  expect(always.outcomes.at(-1)).toBe(false);
});

test('abandon rejects queued publishes and later ones, and stops a batch from being tried again', async () => {
  // The pauses between attempts are on a fake clock: the batch is caught between two attempts, and no
  // attempt can start unless the test moves the clock.
  const clock = new FakeClock();
  const { calls, publisher } = scripted(Array.from({ length: 1_000 }, () => gaveUp), clock);
  const p = publisher();
  const sending = p.publish('t', message(1));
  sending.catch(() => {});
  // The first attempt failed and the pause before the second is running: the batch is being sent.
  await waitFor(() => calls.length === 1 && clock.pending === 1);
  p.abandon(new Error('closed'));
  await expect(p.publish('t', message(2))).rejects.toThrow('closed');
  // The attempt under way when it was abandoned ends it: that failure is the batch's last.
  clock.advance(1);
  await expect(sending).rejects.toThrow('ECONNREFUSED');
  expect(calls).toHaveLength(2);
  // No pause is running, so no attempt will come: the clock can move past the give-up with nothing sent.
  expect(clock.pending).toBe(0);
  clock.advance(10_000);
  expect(calls).toHaveLength(2);
});

test('transient errors are told from final ones', () => {
  expect(isTransient(gaveUp)).toBe(true);
  expect(isTransient(new KafkaJSConnectionError('gone'))).toBe(true);
  expect(isTransient(Object.assign(new Error('not leader'), { name: 'KafkaJSProtocolError', retriable: true }))).toBe(true);
  expect(isTransient(refused)).toBe(false);
  expect(isTransient(undefined)).toBe(false);
});
