// Cluster mode under faults: gateway and consumers as real processes on a real Kafka (3 brokers,
// replication 3, min.insync.replicas 2) and a CouchDB-API server that keeps its data on disk, loaded with
// real MNIST digits. For each fault: every request the gateway accepted (a 2xx) was answered once, with
// the digit an undisturbed pass gives, under an id of its own, and the store holds exactly one result
// for each such id and nothing more. 503s during a fault are allowed; the client retries them.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startPrivateCluster, type PrivateCluster } from '../helpers/cluster-services.ts';
import { startPouchServer, type PouchServer } from '../helpers/couch-server.ts';
import { waitFor } from '../helpers/wait.ts';
import { ProcessGroup, withLogs, type ClusterTarget, type RoleProcess } from './cluster-processes.ts';
import { referenceDigits, storedResults, stream, testDigits, type StreamResult, type Trigger } from './load-client.ts';

const REQUESTS = 1_000;
const digits = testDigits(REQUESTS);

// Both Kafka clusters start at once (a JVM each per broker); the one-broker cluster is the one the
// "Kafka down at start" test takes down entirely.
const [kafka, lonely] = await Promise.all([startPrivateCluster(3), startPrivateCluster(1)]);

if (!kafka || !lonely) {
  test.skip('cluster fault tests (no Kafka on this machine: see the warning above)', () => {});
  await kafka?.down();
  await lonely?.down();
} else {
  describeFaults(kafka, lonely);
}

function describeFaults(kafka: PrivateCluster, lonely: PrivateCluster): void {
  const group = new ProcessGroup();
  let couch: PouchServer;
  let target: ClusterTarget;
  let gateway: RoleProcess;
  let consumers: RoleProcess[];
  let reference: number[];

  // Longer than a consumer group takes to notice a dead member (10 s session) and rebalance, so a request
  // stranded on a killed consumer is redelivered and answered rather than timed out.
  const OUTLAST_A_REBALANCE = ['--request-timeout-ms', '90000'];
  const startConsumer = () => group.start('consumer', target, OUTLAST_A_REBALANCE);

  /** The exactly-once checks, against the store as it was before the stream. */
  async function expectEachAnsweredOnce(result: StreamResult, storedBefore: Map<string, number>) {
    console.log(`  ${result.answers.size} answered, ${result.refusals} refusals (503, retried), ${result.failures.length} failures`);
    expect(result.failures).toEqual([]);
    expect(result.answers.size).toBe(REQUESTS);
    // Few refusals: a fault may cost a moment of 503s, not a stream of them.
    expect(result.refusals).toBeLessThan(REQUESTS);
    const ids = [...result.answers.values()].map((answer) => answer.id);
    expect(new Set(ids).size).toBe(REQUESTS);
    const wrong = [...result.answers].filter(([index, answer]) => answer.digit !== reference[index]);
    expect(wrong).toEqual([]);
    // A consumer replies while it stores, and a store write that failed (CouchDB away) is redone when the
    // message comes again: the store may lag the answers by a retry or two, never lose one.
    let stored = new Map<string, number>();
    const missingNow = async () => {
      stored = await storedResults(target.couchdbUrl, target.prefix);
      return ids.filter((id) => !stored.has(id));
    };
    await waitFor(async () => (await missingNow()).length === 0, 60_000, 500).catch(() => {});
    expect(await missingNow()).toEqual([]);
    const storedWrong = [...result.answers.values()].filter((answer) => stored.has(answer.id) && stored.get(answer.id) !== answer.digit);
    expect(storedWrong).toEqual([]);
    // Nothing stored that nobody was answered: no result for a request the gateway refused or lost.
    const answered = new Set(ids);
    const extra = [...stored.keys()].filter((id) => !storedBefore.has(id) && !answered.has(id));
    expect(extra).toEqual([]);
  }

  beforeAll(async () => {
    couch = await startPouchServer({ inMemory: false });
    target = { kafkaBrokers: kafka.kafkaBrokers, couchdbUrl: couch.url, prefix: `faults_${Date.now()}_`, replication: 3 };
    // Consumers first: the gateway gets ready once one of them has announced its model.
    consumers = [startConsumer(), startConsumer()];
    gateway = group.start('gateway', target, OUTLAST_A_REBALANCE);
    await withLogs(group, () => Promise.all([gateway, ...consumers].map((p) => p.waitReady())));
    const clean = await referenceDigits(gateway.url, digits);
    reference = clean.digits;
    // A consumer replies before its results are stored: the reference pass's must be in before a test
    // takes stock of what the store held before its stream.
    await waitFor(async () => {
      const stored = await storedResults(target.couchdbUrl, target.prefix);
      return clean.ids.every((id) => stored.has(id));
    }, 30_000, 100);
    // The reference is the model's own answer; it must also be a good one, or the checks prove little.
    const agree = reference.filter((digit, i) => digit === digits.labels[i]).length;
    expect(agree / REQUESTS).toBeGreaterThan(0.97);
  }, 240_000);

  afterAll(async () => {
    await group.dispose();
    await couch?.stop();
    await Promise.all([kafka.down(), lonely.down()]);
  }, 60_000);

  describe('with a gateway, two consumers, three brokers', () => {
    test('SIGKILL of one of two consumers during 1,000 requests', async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const victim = consumers[1] as RoleProcess;
        const kill: Trigger = { afterAnswers: 300, action: async () => void victim.proc.kill('SIGKILL') };
        const result = await stream(gateway.url, digits, { triggers: [kill] });
        expect(victim.proc.signalCode).toBe('SIGKILL');
        await expectEachAnsweredOnce(result, before);
        // The survivor took the victim's partitions over: a rebalance, on /metrics.
        const metrics = await (consumers[0] as RoleProcess).metrics();
        const joins = Number(metrics.match(/^stratus_kafka_rebalances_total\{group="stratus-consumers",topic="stratus.predictions"\} (\d+)/m)?.[1]);
        expect(joins).toBeGreaterThanOrEqual(2);
        expect(metrics).toMatch(/^stratus_kafka_consumer_lag\{group="stratus-consumers",topic="stratus.predictions"\} \d+/m);
        // Back to two for the next test.
        consumers[1] = startConsumer();
        await consumers[1].waitReady();
      });
    }, 240_000);

    // This once lost about one request in 4,000 (a 504 after 90 s): kafkajs's own send retries skipped the
    // messages of partitions whose leadership moved to a broker that had already answered. Sends are now
    // retried whole by the transport (src/adapters/transport/kafka/publisher.ts, test/adapters/transport/kafka/publisher.test.ts).
    test('one of three brokers crashing under load and coming back', async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const triggers: Trigger[] = [
          { afterAnswers: 250, action: () => kafka.control('stop-broker', '2', '--kill') },
          { afterAnswers: 600, action: () => kafka.control('start-broker', '2') },
        ];
        const result = await stream(gateway.url, digits, { triggers });
        await expectEachAnsweredOnce(result, before);
      });
    }, 240_000);

    test('the CouchDB server crashing under load and coming back; readiness follows the store', async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const consumer = consumers[0] as RoleProcess;
        let sawStoreDown: string[] = [];
        const restart: Trigger = {
          afterAnswers: 250,
          action: async () => {
            await couch.kill();
            // Down long enough for the store's 2 s ping to notice: readiness names the store.
            await waitFor(async () => {
              const ready = await consumer.ready();
              if (ready.status === 503) sawStoreDown = ready.reasons;
              return ready.status === 503;
            }, 20_000, 100);
            await couch.start();
            await consumer.waitReady(30_000);
          },
        };
        const result = await stream(gateway.url, digits, { triggers: [restart] });
        expect(sawStoreDown).toContain('store couchdb is down');
        await expectEachAnsweredOnce(result, before);
      });
    }, 240_000);
  });

  test('a gateway started while Kafka is down: not ready, 503 on predict, ready once Kafka is up', async () => {
    await withLogs(group, async () => {
      const alone: ClusterTarget = { ...target, kafkaBrokers: lonely.kafkaBrokers, prefix: `${target.prefix}alone_`, replication: 1 };
      await lonely.control('stop-broker', '1');
      // Both roles start patiently while the broker is away.
      const early = group.start('gateway', alone, OUTLAST_A_REBALANCE);
      const consumer = group.start('consumer', alone, OUTLAST_A_REBALANCE);
      await waitFor(() => early.ready().then(() => true, () => false), 60_000, 100);
      const notReady = await early.ready();
      expect(notReady.status).toBe(503);
      expect(notReady.reasons).toContain('transport kafka is down');
      const refused = await fetch(`${early.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: digits.bodies[0] as string });
      expect(refused.status).toBe(503);
      expect(early.proc.exitCode).toBeNull();

      await lonely.control('start-broker', '1');
      await Promise.all([early.waitReady(), consumer.waitReady()]);
      const answers = await stream(early.url, { bodies: digits.bodies.slice(0, 50), labels: digits.labels.slice(0, 50) }, { concurrency: 8 });
      expect(answers.failures).toEqual([]);
      expect([...answers.answers].filter(([index, answer]) => answer.digit !== reference[index])).toEqual([]);

      // Readiness follows the broker afterwards too: down while it is away, back when it returns.
      await lonely.control('stop-broker', '1');
      await waitFor(async () => (await early.ready()).reasons.includes('transport kafka is down'), 30_000, 200);
      await lonely.control('start-broker', '1');
      await early.waitReady(60_000);
    });
  }, 300_000);
}
