// Consumer lag and rebalances on /metrics, measured against a real Kafka: lag is what the group has not
// committed (messages held by a handler count), and every join of the group is counted.
import { afterEach, expect, test } from 'bun:test';
import { KafkaTransport } from '../../src/adapters/transport/kafka/kafka-transport.ts';
import { Metrics } from '../../src/metrics.ts';
import { kafkaBrokers } from '../helpers/cluster-services.ts';
import { waitFor } from '../helpers/wait.ts';

const brokers = await kafkaBrokers();
const bytes = (text: string) => new TextEncoder().encode(text);

if (!brokers) {
  test.skip('consumer lag and rebalance metrics (no Kafka on this machine: see the warning above)', () => {});
} else {
  const opened: KafkaTransport[] = [];
  const connect = async () => {
    const transport = new KafkaTransport({ brokers, clientId: 'stratus-observability-test', lagIntervalMs: 200 });
    opened.push(transport);
    await transport.start();
    return transport;
  };

  afterEach(async () => {
    await Promise.all(opened.splice(0).map((t) => t.close()));
  });

  const sample = async (metrics: Metrics, name: string, group: string, topic: string) => {
    const text = await metrics.registry.metrics();
    const line = text.split('\n').find((l) => l.startsWith(`${name}{group="${group}",topic="${topic}"}`));
    return line === undefined ? null : Number(line.split(' ').pop());
  };

  test('lag counts the messages a group has not committed, and falls to 0 once they are handled', async () => {
    const transport = await connect();
    const metrics = new Metrics();
    metrics.watchConsumerGroups(transport);
    const topic = `observability.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let handled = 0;
    await transport.subscribe(topic, { group: 'lagging', concurrency: 4 }, async () => {
      await held;
      handled++;
    });
    await Promise.all(Array.from({ length: 12 }, (_, i) => transport.publish(topic, { key: `k${i}`, value: bytes(`m${i}`) })));
    // Four are being handled and eight wait for a slot: none committed, so all twelve are lag.
    await waitFor(async () => (await sample(metrics, 'stratus_kafka_consumer_lag', 'lagging', topic)) === 12, 20_000, 100);
    release();
    await waitFor(() => handled === 12, 20_000);
    await waitFor(async () => (await sample(metrics, 'stratus_kafka_consumer_lag', 'lagging', topic)) === 0, 20_000, 100);
  }, 60_000);

  test('each join of a group is counted: one at start, one more when a second member makes it rebalance', async () => {
    const [first, second] = [await connect(), await connect()];
    const metrics = new Metrics();
    metrics.watchConsumerGroups(first);
    const topic = `observability.${Date.now()}.${Math.random().toString(36).slice(2, 8)}`;
    await first.subscribe(topic, { group: 'sharing' }, async () => {});
    expect(await sample(metrics, 'stratus_kafka_rebalances_total', 'sharing', topic)).toBe(1);
    await second.subscribe(topic, { group: 'sharing' }, async () => {});
    // The first member learns of the rebalance at its next heartbeat and joins again.
    await waitFor(async () => (await sample(metrics, 'stratus_kafka_rebalances_total', 'sharing', topic)) === 2, 30_000, 100);
  }, 60_000);
}
