// Fault injection: the model fails mid-batch. The consumer crashes, the supervisor restarts it, the
// transport redelivers the unacknowledged request, and the caller still gets its one answer.
import { expect, test } from 'bun:test';
import { ConsumerActor } from '../../src/actors/consumer.ts';
import { encodeBatch } from '../../src/protocol/messages.ts';
import { TOPIC } from '../../src/protocol/topics.ts';
import { onlyReply } from '../helpers/prediction-messages.ts';
import { waitFor } from '../helpers/wait.ts';
import { Supervisor } from '../../src/actors/supervisor.ts';
import { MemoryBroker, MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { DEFAULTS } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import type { Predictor } from '../../src/model/worker-classifier.ts';

/** Answers like a model that is sure of digit 3, after failing as often as told. */
class FailingPredictor implements Predictor {
  readonly version = 'fault-injection';
  readonly engine = 'wasm';
  alive = true;
  constructor(private failuresLeft: { n: number }) {}
  async predict(_images: Float32Array, count: number): Promise<Float32Array> {
    if (this.failuresLeft.n-- > 0) {
      this.alive = false;
      throw new Error('injected inference failure');
    }
    const out = new Float32Array(count * 10);
    for (let i = 0; i < count; i++) out[i * 10 + 3] = 1;
    return out;
  }
  async close() {}
}

test('a consumer that crashes mid-batch is restarted and the request is still answered once', async () => {
  const broker = new MemoryBroker({ maxAttempts: 5, retryDelayMs: 10 });
  const transport = new MemoryTransport(broker);
  const client = new MemoryTransport(broker);
  const store = new PouchStore({ adapter: 'memory', directory: `crash-${crypto.randomUUID()}` });
  await Promise.all([transport.start(), client.start(), store.open()]);
  const metrics = new Metrics();
  const failures = { n: 1 };
  let loads = 0;
  const consumer = new ConsumerActor(async () => {
    loads++;
    return new FailingPredictor(failures);
  });
  const supervisor = new Supervisor(
    { config: DEFAULTS, transport, store, logger: createLogger('silent'), metrics },
    { firstDelayMs: 20, maxDelayMs: 100, stableAfterMs: 60_000 },
  );
  await supervisor.start(consumer);

  const pixels = new Float32Array(784);
  const value = encodeBatch([{ id: 'survivor', count: 1, pixels, sentAt: Date.now() }]);
  const reply = onlyReply((await client.request(TOPIC.predictions, { key: 'survivor', value }, 5_000)).value);

  expect(reply.digits).toEqual([3]);
  expect(loads).toBe(2); // the dead model was replaced on restart
  expect(await metrics.registry.getSingleMetricAsString('stratus_actor_restarts_total')).toContain('actor="consumer"} 1');
  // The consumer replies and stores side by side: the write may land just after the reply.
  await waitFor(async () => (await store.getResult('survivor'))?.digits[0] === 3, 5_000);

  await supervisor.stopAll();
  await Promise.all([transport.close(), client.close(), store.close()]);
});
