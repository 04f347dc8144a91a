// Where the cluster suites get Kafka and CouchDB from (cluster-services.ts): the environment first, with
// no Docker probe at all; else a Docker engine, whose absence is found quickly and passed over for the
// Kafka jars; else a loud skip, which STRATUS_REQUIRE_CLUSTER=1 turns into a failure. Nothing is started
// here: the container path itself needs a Docker engine (see testcontainers-services.ts).
import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { locateClusterServices } from './cluster-services.ts';
import { containerRuntimeProbeRequests, couchAdmin, kafkaEnvironment, probeContainerRuntime } from './testcontainers-services.ts';

test('KAFKA_BROKERS and COUCHDB_URL win, and no Docker probe is made', async () => {
  const before = containerRuntimeProbeRequests();
  const services = await locateClusterServices({ KAFKA_BROKERS: 'k1:9092,k2:9092', COUCHDB_URL: 'http://couch:5984' });
  expect(services).toEqual({ kafkaBrokers: ['k1:9092', 'k2:9092'], couchdbUrl: 'http://couch:5984', control: null, source: 'environment' });
  expect(containerRuntimeProbeRequests()).toBe(before);
});

test('with only one of the two variables, the environment does not count', async () => {
  // No java or mvn on this PATH and a required cluster: the resolver must go past the environment, then fail.
  const empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
  try {
    const before = containerRuntimeProbeRequests();
    const located = locateClusterServices({ PATH: empty, KAFKA_BROKERS: 'k1:9092', STRATUS_REQUIRE_CLUSTER: '1', STRATUS_TESTCONTAINERS: '0' });
    await expect(located).rejects.toThrow(/containers turned off \(STRATUS_TESTCONTAINERS=0\); java and mvn not installed.*STRATUS_REQUIRE_CLUSTER=1/);
    // Turned off means not even asked.
    expect(containerRuntimeProbeRequests()).toBe(before);
  } finally {
    rmSync(empty, { recursive: true });
  }
});

const runtime = await probeContainerRuntime();
console.log(`container runtime probe: ${JSON.stringify(runtime)}`);

describe.if(!runtime.available)('without a Docker engine (as on this project machine)', () => {
  test("the probe says so with the runtime's own reason, before its time limit", () => {
    expect(runtime.available).toBe(false);
    if (runtime.available) return;
    // testcontainers' words, not the probe's "no answer within" time limit: the lookup itself gave up.
    expect(runtime.reason).toMatch(/container runtime strategy/);
    expect(runtime.reason).not.toMatch(/no answer/);
  });

  test('the resolver passes over Docker to the Kafka jars, and without them fails where a cluster is required', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'no-tools-'));
    try {
      const located = locateClusterServices({ PATH: empty, STRATUS_REQUIRE_CLUSTER: '1' });
      // Both reasons, in the order tried: the engine's absence first, then what the jar path lacks.
      await expect(located).rejects.toThrow(/no Docker engine \(Could not find a working container runtime strategy; \d+ ms\); java and mvn not installed/);
    } finally {
      rmSync(empty, { recursive: true });
    }
  });
});

describe.if(runtime.available)('with a Docker engine', () => {
  test('the probe names the host its containers publish on', () => {
    expect(runtime.available && runtime.host.length > 0).toBe(true);
  });
});

describe('container settings', () => {
  const nodes = [1, 2, 3].map((id) => ({ id, hostPort: 40_000 + id }));

  test('each Kafka node advertises the published port to the host and its own alias to the others', () => {
    const second = kafkaEnvironment(nodes[1]!, nodes, 'localhost', 'cluster-id');
    expect(second.KAFKA_ADVERTISED_LISTENERS).toBe('HOST://localhost:40002,INTERNAL://kafka-2:19092');
    expect(second.KAFKA_CONTROLLER_QUORUM_VOTERS).toBe('1@kafka-1:9093,2@kafka-2:9093,3@kafka-3:9093');
    expect(second.KAFKA_NODE_ID).toBe('2');
    // Three nodes replicate internal topics three ways; one node cannot.
    expect(second.KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('3');
    expect(kafkaEnvironment(nodes[0]!, [nodes[0]!], 'localhost', 'cluster-id').KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR).toBe('1');
  });

  test('the CouchDB admin is made up on each run', () => {
    const [a, b] = [couchAdmin(), couchAdmin()];
    expect(a.password).not.toBe(b.password);
    expect(a.password.length).toBeGreaterThanOrEqual(32);
    // It goes into a URL as userinfo unescaped.
    expect(encodeURIComponent(a.user + a.password)).toBe(a.user + a.password);
  });
});
