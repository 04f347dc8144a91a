// The patched kafkajs consumer group, driven directly with a scripted cluster: a coordinator that cannot be
// reached is looked up again instead of failing every heartbeat until the consumer crashes, and a fetcher
// whose broker cannot be reached waits and refreshes the metadata instead of stopping every fetcher.
// test/adapters/transport/kafka/kafka-transport.test.ts crashes a real broker.
import { expect, test } from 'bun:test';
import { KafkaJSConnectionError, KafkaJSProtocolError } from 'kafkajs';
import { ConsumerGroup, UNREACHABLE_BROKER_RETRY_MS } from '../../../../src/adapters/transport/kafka/kafkajs-broker-loss.ts';
import { waitFor } from '../../../helpers/wait.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };
const logger = { ...quiet, namespace: () => logger };

/** A broker whose requests all fail as a crashed one's do, or a live one that counts its heartbeats. */
function broker(alive: boolean) {
  const refused = () => Promise.reject(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092'));
  const state = { heartbeats: 0 };
  return Object.assign(state, {
    connect: () => (alive ? Promise.resolve() : refused()),
    heartbeat: () => (alive ? Promise.resolve(void state.heartbeats++) : refused()),
  });
}

/** A member of group g whose coordinator has crashed; the cluster names `answers` in turn when asked for one. */
function memberOfCrashedCoordinator(...answers: ReturnType<typeof broker>[]) {
  const dead = broker(false);
  let lookups = 0;
  let refreshes = 0;
  const cluster = {
    findGroupCoordinator: async () => answers[Math.min(lookups++, answers.length - 1)],
    refreshMetadata: async () => void refreshes++,
  };
  const group = new ConsumerGroup({ cluster, groupId: 'g', topics: [], logger, retry: { retries: 0 }, instrumentationEmitter: { emit() {} } });
  group.memberId = 'member-1';
  group.generationId = 1;
  group.coordinator = dead;
  group.offsetManager = { coordinator: dead };
  return { group, dead, lookups: () => lookups, refreshes: () => refreshes };
}

test('a heartbeat the dead coordinator cannot take is skipped, and the group looks for the new one until it answers', async () => {
  const moved = broker(true);
  // Until the controller fences the dead broker, the cluster still names it.
  const { group, dead } = memberOfCrashedCoordinator(broker(false), broker(false), moved);
  await group.heartbeat({ interval: 0 });
  await waitFor(() => group.coordinator === moved, UNREACHABLE_BROKER_RETRY_MS * 20);
  expect(group.offsetManager?.coordinator).toBe(moved);
  expect(group.coordinator).not.toBe(dead);
  await group.heartbeat({ interval: 0 });
  expect(moved.heartbeats).toBe(1);
});

test('a commit that cannot reach the coordinator still fails, and sets off the same search', async () => {
  const moved = broker(true);
  const { group, dead } = memberOfCrashedCoordinator(moved);
  const offsetManager = { coordinator: dead, commitOffsets: () => Promise.reject(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED')) };
  group.offsetManager = offsetManager;
  await expect(group.commitOffsets([])).rejects.toThrow(/ECONNREFUSED/);
  await waitFor(() => group.coordinator === moved, UNREACHABLE_BROKER_RETRY_MS * 20);
  expect(offsetManager.coordinator).toBe(moved);
});

test('other heartbeat errors still reach kafkajs, which rejoins on them', async () => {
  const { group, dead, lookups } = memberOfCrashedCoordinator(broker(true));
  // kafkajs builds its protocol errors from the broker's error code; the typings know only a message.
  const rebalancing = { message: 'The group is rebalancing', type: 'REBALANCE_IN_PROGRESS', code: 27, retriable: false } as unknown as Error;
  dead.heartbeat = () => Promise.reject(new KafkaJSProtocolError(rebalancing));
  await expect(group.heartbeat({ interval: 0 })).rejects.toThrow(/rebalancing/);
  expect(lookups()).toBe(0);
});

test('a fetch that cannot reach its broker waits, refreshes the metadata and returns, without stopping the other fetchers', async () => {
  const { group, refreshes } = memberOfCrashedCoordinator(broker(true));
  const started = performance.now();
  await group.recoverFromFetch(new KafkaJSConnectionError('Connection error: connect ECONNREFUSED'));
  // A lower bound only: the pause was waited out (a slow machine adds to it; 5 ms off for a timer that
  // fires a little early).
  expect(performance.now() - started).toBeGreaterThanOrEqual(UNREACHABLE_BROKER_RETRY_MS - 5);
  expect(refreshes()).toBe(1);
  // kafkajs's own cases are left to it: an error it does not recover from is thrown, as before.
  await expect(group.recoverFromFetch(new Error('something else'))).rejects.toThrow('something else');
});
