// Cluster mode under faults: gateway and consumers as real processes on a real Kafka (3 brokers,
// replication 3, min.insync.replicas 2) and a CouchDB-API server that keeps its data on disk, loaded with
// real MNIST digits. For each fault: every request the gateway accepted (a 2xx) was answered once, with
// the digit an undisturbed pass gives, under an id of its own, and the store holds exactly one result
// for each such id and nothing more; no request got a 504; and the requests sent in the 15 s after the
// fault were answered with a p99 under 2 s. 503s during a fault are allowed; the client retries them.
// Every process runs with its default flags but two, as ops/k8s deploys them: for each consumer a static
// member id (--kafka-group-instance-id, the pod's name in ops/k8s), the same for the consumer that takes a
// dead one's place, as a container restarted in its pod keeps its name; and --kafka-replication 3 (default
// 1). At the default each partition lives on one broker, so a broker crash leaves its partitions without
// a copy to fail over to until it returns: that fault is tested at 3, where failover exists.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { startPrivateCluster, type PrivateCluster } from '../helpers/cluster-services.ts';
import { startPouchServer, type PouchServer } from '../helpers/couch-server.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { waitFor } from '../helpers/wait.ts';
import { ProcessGroup, withLogs, type ClusterTarget, type RoleProcess } from './cluster-processes.ts';
import { latencyAfter, referenceDigits, storedResults, stream, testDigits, type StreamResult, type Trigger } from './load-client.ts';

const REQUESTS = 1_000;
/** After a fault, how long the requests count towards the failover window, and the p99 they must keep. */
const FAILOVER_WINDOW_MS = 15_000;
const FAILOVER_P99_MS = 2_000;
const digits = testDigits(REQUESTS);

/** Streams of `digits` one after another, as one: request i of round k is request k × REQUESTS + i. */
function roundsTogether(rounds: readonly StreamResult[]): StreamResult {
  const answers = new Map(rounds.flatMap((round, k) => [...round.answers].map(([i, answer]) => [k * REQUESTS + i, answer] as const)));
  const sum = (count: (round: StreamResult) => number) => rounds.reduce((total, round) => total + count(round), 0);
  return { answers, refusals: sum((round) => round.refusals), retries: sum((round) => round.retries), failures: rounds.flatMap((round) => round.failures) };
}

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

  // Every process with the defaults an operator gets: no deadline raised to ride out a rebalance. Consumer
  // `slot` is pod stratus-consumer-<slot>: the same name for whoever takes its place.
  const startConsumer = (slot: number) => group.start('consumer', target, ['--kafka-group-instance-id', `stratus-consumer-${slot}`]);

  const hedgesIn = (metrics: string, outcome: 'sent' | 'over_budget') => sampleOf(metrics, `stratus_hedges_total{outcome="${outcome}"}`);
  const hedges = async (outcome: 'sent' | 'over_budget') => hedgesIn(await gateway.metrics(), outcome);

  /** The exactly-once checks, against the store as it was before the stream; the failover window's p99
   * when `faultAt` (performance.now()) says when the fault struck; `requests`: how many were sent. */
  async function expectEachAnsweredOnce(result: StreamResult, storedBefore: Map<string, number>, faultAt?: number, requests = REQUESTS) {
    const window = faultAt === undefined ? null : latencyAfter(result, faultAt, FAILOVER_WINDOW_MS);
    const windowText = window ? `; ${window.count} sent within ${FAILOVER_WINDOW_MS / 1000} s of the fault: p99 ${Math.round(window.p99Ms)} ms, max ${Math.round(window.maxMs)} ms` : '';
    const metrics = await gateway.metrics();
    const hedgeText = `hedges so far: ${hedgesIn(metrics, 'sent')} sent, ${hedgesIn(metrics, 'over_budget')} over budget; hedge delay now ${sampleOf(metrics, 'stratus_hedge_delay_seconds')} s`;
    console.log(`  ${result.answers.size} answered, ${result.refusals} refusals (503, retried), ${result.retries} sent again to another gateway, ${result.failures.length} failures${windowText}; ${hedgeText}`);
    // Any 504 (or other error) is a failure: none is allowed.
    expect(result.failures).toEqual([]);
    if (window) {
      expect(window.count).toBeGreaterThan(0);
      expect(window.p99Ms).toBeLessThanOrEqual(FAILOVER_P99_MS);
    }
    expect(result.answers.size).toBe(requests);
    // Few refusals: a fault may cost a moment of 503s, not a stream of them.
    expect(result.refusals).toBeLessThan(REQUESTS);
    const ids = [...result.answers.values()].map((answer) => answer.id);
    expect(new Set(ids).size).toBe(requests);
    const wrong = [...result.answers].filter(([index, answer]) => answer.digit !== reference[index % REQUESTS]);
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

  /** A fresh consumer in `slot`'s place (the same static member id), once it is ready. */
  const replaceConsumer = async (slot: number) => {
    consumers[slot] = startConsumer(slot);
    await consumers[slot].waitReady();
  };

  /** Group joins of a consumer: its first, then one per rebalance. */
  const joinsOf = async (consumer: RoleProcess) =>
    sampleOf(await consumer.metrics(), 'stratus_kafka_rebalances_total{group="stratus-consumers",topic="stratus.predictions"}');

  /**
   * Consumer 1 gets `signal` after 300 answers of a stream. Hedges answer the requests stranded on its
   * partitions until the group notices, once its session (10 s) has run out (a hung member stops
   * heartbeating too); consumer 0 then takes those partitions over in a rebalance (on /metrics), during
   * which it fetches nothing. So the load goes on, round after round, until a second after consumer 0
   * rejoined; then every round is checked, and counted in the failover window.
   */
  async function loseConsumerUnderLoad(signal: 'SIGKILL' | 'SIGSTOP', storedBefore: Map<string, number>) {
    const [survivor, victim] = consumers as [RoleProcess, RoleProcess];
    let faultAt = 0;
    let joinsBefore = 0;
    const loss: Trigger = {
      afterAnswers: 300,
      action: async () => {
        joinsBefore = await joinsOf(survivor);
        faultAt = performance.now();
        victim.proc.kill(signal);
      },
    };
    const rounds = [await stream(gateway.url, digits, { triggers: [loss] })];
    let rejoinedAt = Number.POSITIVE_INFINITY;
    while (performance.now() < rejoinedAt + 1_000) {
      // The group notices within 30 s, or never.
      expect(performance.now() - faultAt).toBeLessThan(30_000);
      rounds.push(await stream(gateway.url, digits));
      if (rejoinedAt === Number.POSITIVE_INFINITY && (await joinsOf(survivor)) > joinsBefore) rejoinedAt = performance.now();
    }
    console.log(`  the survivor rejoined within ${Math.round(rejoinedAt - faultAt)} ms of the ${signal}; ${rounds.length} rounds of ${REQUESTS} requests:`);
    await expectEachAnsweredOnce(roundsTogether(rounds), storedBefore, faultAt, rounds.length * REQUESTS);
  }

  beforeAll(async () => {
    couch = await startPouchServer({ inMemory: false });
    // Replication 3, not the default 1: see the top of this file (ops/k8s/base/config.yaml sets 3 too).
    target = { kafkaBrokers: kafka.kafkaBrokers, couchdbUrl: couch.url, prefix: `faults_${Date.now()}_`, replication: 3 };
    // Consumers first: the gateway gets ready once one of them has announced its model.
    consumers = [startConsumer(0), startConsumer(1)];
    gateway = group.start('gateway', target);
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
    test('a consumer stopped with SIGTERM leaves its group at once: its partitions move without waiting out the session', async () => {
      // First: a group that a fault just shook may still be waiting out a dead member's session, and
      // would take that long to rebalance whatever leaves.
      await withLogs(group, async () => {
        const survivor = consumers[0] as RoleProcess;
        const before = await joinsOf(survivor);
        const stopping = (consumers[1] as RoleProcess).stop();
        // Half the 10 s session a member that just vanished would take to be noticed.
        await waitFor(async () => (await joinsOf(survivor)) > before, 5_000, 100);
        await stopping;
        expect((consumers[1] as RoleProcess).proc.exitCode).toBe(0);
        await replaceConsumer(1);
      });
    }, 120_000);

    test("SIGKILL of one of two consumers under load, on through the group's rebalance", async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const hedgesBefore = await hedges('sent');
        const [survivor, victim] = consumers as [RoleProcess, RoleProcess];
        await loseConsumerUnderLoad('SIGKILL', before);
        expect(victim.proc.signalCode).toBe('SIGKILL');
        // What the dead one held was answered through hedges.
        expect(await hedges('sent')).toBeGreaterThan(hedgesBefore);
        const metrics = await survivor.metrics();
        expect(metrics).toMatch(/^stratus_kafka_consumer_lag\{group="stratus-consumers",topic="stratus.predictions"\} \d+/m);
        // Back to two for the next test.
        await replaceConsumer(1);
      });
    }, 240_000);

    // Kubernetes restarts a killed container in its pod within seconds. As a new member, the restarted
    // consumer set off a rebalance that every member sat in until the dead one's 10 s session ran out (a p99
    // of 9.4 s); as the same static member, it takes its partitions back and nobody rebalances.
    test('a consumer killed and started again at once, as its pod restarts it: its partitions come back without a rebalance', async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const survivor = consumers[0] as RoleProcess;
        const joinsBefore = await joinsOf(survivor);
        let faultAt = 0;
        const restart: Trigger = {
          afterAnswers: 300,
          action: async () => {
            faultAt = performance.now();
            (consumers[1] as RoleProcess).proc.kill('SIGKILL');
            consumers[1] = startConsumer(1);
          },
        };
        const result = await stream(gateway.url, digits, { triggers: [restart] });
        await (consumers[1] as RoleProcess).waitReady();
        await expectEachAnsweredOnce(result, before, faultAt);
        expect(await joinsOf(survivor)).toBe(joinsBefore);
      });
    }, 240_000);

    test("one of two consumers hanging (SIGSTOP) under load, on through the group's rebalance", async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const victim = consumers[1] as RoleProcess;
        await loseConsumerUnderLoad('SIGSTOP', before);
        // A hung process holds what it took until it is gone; here it goes for good, and a fresh one comes.
        victim.proc.kill('SIGKILL');
        await replaceConsumer(1);
      });
    }, 240_000);

    test('SIGKILL of one of two gateways: its requests, sent again with their Idempotency-Key, are answered by the other', async () => {
      await withLogs(group, async () => {
        const victim = group.start('gateway', target);
        await victim.waitReady();
        const before = await storedResults(target.couchdbUrl, target.prefix);
        let faultAt = 0;
        const kill: Trigger = { afterAnswers: 300, action: async () => void ((faultAt = performance.now()), victim.proc.kill('SIGKILL')) };
        const result = await stream([gateway.url, victim.url], digits, { triggers: [kill], idempotencyKeyPrefix: `gateway-kill-${Date.now()}-` });
        expect(victim.proc.signalCode).toBe('SIGKILL');
        // Requests were in flight on the victim when it died: their connections broke, and the retries,
        // under the same keys, found their answers (stored once: the ids come from the keys).
        expect(result.retries).toBeGreaterThan(0);
        await expectEachAnsweredOnce(result, before, faultAt);
      });
    }, 240_000);

    // This once lost about one request in 4,000 (a 504 after 90 s): kafkajs's own send retries skipped the
    // messages of partitions whose leadership moved to a broker that had already answered. Sends are now
    // retried whole by the transport (src/adapters/transport/kafka/publisher.ts, test/adapters/transport/kafka/publisher.test.ts).
    //
    // Until the controllers fence the dead broker, every write waits for it (acks=all) and the groups it
    // coordinates stall. The brokers here are fenced after 1 s (ops/dev/kafka-node.ts), by a quorum of
    // three controllers of their own (ops/dev/services.ts): with each broker also a controller, killing the
    // quorum's leader added its re-election before the fence, and that run's p99 was 2.7-3.4 s. Containers
    // (a Docker engine) still run combined nodes that fence after 3 s: there the p99 is printed, not held
    // to 2 s (docs/cluster.md).
    /** Kafka process(es) killed after 250 answers, started again after 600, under the stream; then the
     * checks, with the failover window's p99 held to 2 s when `holdP99`, else printed. */
    const crashAndRestart = (kill: string[], restart: string[], holdP99 = true) =>
      withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        let faultAt = 0;
        const triggers: Trigger[] = [
          { afterAnswers: 250, action: () => ((faultAt = performance.now()), kafka.control(...kill)) },
          { afterAnswers: 600, action: () => kafka.control(...restart) },
        ];
        const result = await stream(gateway.url, digits, { triggers });
        await expectEachAnsweredOnce(result, before, holdP99 ? faultAt : undefined);
        if (!holdP99) {
          const window = latencyAfter(result, faultAt, FAILOVER_WINDOW_MS);
          console.log(`  ${window.count} sent within ${FAILOVER_WINDOW_MS / 1000} s of the crash: p99 ${Math.round(window.p99Ms)} ms (not held to 2 s here)`);
        }
      });

    test('one of three brokers crashing under load and coming back', () => crashAndRestart(['stop-broker', '2', '--kill'], ['start-broker', '2'], kafka.controllersOfTheirOwn), 240_000);

    // A controller serves no client. Killing the quorum's leader (the worst of the three) stops metadata
    // changes until the other two elect one (controller.quorum.fetch.timeout.ms, 2 s, then a vote), but
    // every partition keeps its leader and in-sync replicas meanwhile: requests flow as before.
    test.skipIf(!kafka.controllersOfTheirOwn)("the Kafka quorum's leader (one of three controllers) crashing under load and coming back", () =>
      crashAndRestart(['stop-controller', 'leader', '--kill'], ['start-controller', 'all']), 240_000);

    test('the CouchDB server crashing under load and coming back; readiness follows the store', async () => {
      await withLogs(group, async () => {
        const before = await storedResults(target.couchdbUrl, target.prefix);
        const consumer = consumers[0] as RoleProcess;
        let sawStoreDown: string[] = [];
        let faultAt = 0;
        const restart: Trigger = {
          afterAnswers: 250,
          action: async () => {
            faultAt = performance.now();
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
        await expectEachAnsweredOnce(result, before, faultAt);
      });
    }, 240_000);
  });

  test('a gateway started while Kafka is down: not ready, 503 on predict, ready once Kafka is up', async () => {
    await withLogs(group, async () => {
      // One broker, at the default replication 1.
      const alone: ClusterTarget = { ...target, kafkaBrokers: lonely.kafkaBrokers, prefix: `${target.prefix}alone_`, replication: 1 };
      await lonely.control('stop-broker', '1');
      // Both roles start patiently while the broker is away.
      const early = group.start('gateway', alone);
      const consumer = group.start('consumer', alone);
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
