// The gateway actor on the memory transport, against a consumer the test plays: how requests become
// messages, and how each failure reaches the caller in the actors' own words.
import { afterEach, describe, expect, test } from 'bun:test';
import { NoAnswer, TimedOut, Unavailable } from '../../src/actors/errors.ts';
import { GatewayActor } from '../../src/actors/gateway.ts';
import { IDEMPOTENCY_WINDOW_MS, LOOKUP_DEADLINE_MS, idempotentRequestId } from '../../src/actors/idempotency.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { MemoryBroker, MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import type { Delivery, RequestOptions } from '../../src/adapters/transport/transport.ts';
import { DEFAULTS, type Config } from '../../src/config.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { ANNOUNCE_EVERY_MS, decodeBatch, encodeJson, type BatchReply, type ModelAnnouncement, type PredictionReply, type PredictionRequest } from '../../src/protocol/messages.ts';
import { GROUP, TOPIC } from '../../src/protocol/topics.ts';
import { FakeClock } from '../helpers/fake-clock.ts';
import { waitFor } from '../helpers/wait.ts';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const image = new Float32Array(784);

/** A consumer that holds each message until the test answers it, with all, some or none of its answers. */
async function playConsumer(transport: MemoryTransport) {
  const messages: { ids: string[]; requests: PredictionRequest[]; delivery: Delivery }[] = [];
  await transport.subscribe(TOPIC.predictions, { group: GROUP.consumers, concurrency: 100 }, async (delivery) => {
    const { requests } = decodeBatch(delivery.value);
    messages.push({ ids: requests.map((r) => r.id), requests, delivery });
  });
  const answer = async (index: number, leaveOut: string[] = []) => {
    const { ids, delivery } = messages[index]!;
    const replies: PredictionReply[] = ids.filter((id) => !leaveOut.includes(id)).map((id) => ({ id, digits: [4], probabilities: [], modelVersion: 'played' }));
    await transport.reply(delivery, { value: encodeJson({ replies } satisfies BatchReply) });
  };
  return { messages, answer };
}

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const step of cleanup.reverse()) await step();
  cleanup = [];
});

async function setup(config: Partial<Config> = {}) {
  const broker = new MemoryBroker();
  const transport = new MemoryTransport(broker);
  const consumerSide = new MemoryTransport(broker);
  await Promise.all([transport.start(), consumerSide.start()]);
  const consumer = await playConsumer(consumerSide);
  const metrics = new Metrics();
  const clock = new FakeClock();
  const gateway = new GatewayActor(clock);
  const store = new PouchStore({ adapter: 'memory', directory: `gateway-${crypto.randomUUID()}` });
  await store.open();
  cleanup.push(() => store.close());
  const context = { config: { ...DEFAULTS, ...config }, transport, store, logger: createLogger('silent'), metrics, crash: () => {} };
  await gateway.start(context);
  cleanup.push(async () => {
    await gateway.stop();
    await Promise.all([transport.close(), consumerSide.close()]);
  });
  const classify = () => gateway.classify(image, 1);
  return { gateway, consumer, metrics, classify, clock, store, transport };
}

describe('gateway', () => {
  test('a request at low load leaves alone; while four messages are out, the next ones hold back and leave as one', async () => {
    const { consumer, classify, clock } = await setup();
    const answered: Promise<unknown>[] = [];
    const send = async (count: number) => {
      for (let i = 0; i < count; i++) answered.push(classify());
      await nextTurn();
    };
    await send(1);
    await send(3);
    await send(1);
    await send(1);
    expect(consumer.messages.map((m) => m.ids.length)).toEqual([1, 3, 1, 1]);
    // Four out: these wait, turn after turn, for one of them to come back.
    await send(1);
    await send(1);
    await send(1);
    expect(consumer.messages).toHaveLength(4);
    await consumer.answer(1);
    await waitFor(() => consumer.messages.length === 5);
    expect(consumer.messages[4]?.ids).toHaveLength(3);
    // A message that never comes back holds nothing up for long: after 5 ms the held ones go anyway.
    await send(2);
    expect(consumer.messages).toHaveLength(5);
    clock.advance(5);
    await waitFor(() => consumer.messages.length === 6);
    expect(consumer.messages[5]?.ids).toHaveLength(2);
    for (const index of [0, 2, 3, 4, 5]) await consumer.answer(index);
    expect((await Promise.all(answered)).length).toBe(11);
  });

  test('a reply without one request\'s answer fails that request with NoAnswer; the others are answered', async () => {
    const { consumer, gateway } = await setup();
    const answers = [gateway.classify(image, 1), gateway.classify(image, 1)].map((p) => p.then((a) => a.digits, (e: unknown) => e));
    await waitFor(() => consumer.messages.length === 1);
    const [kept, dropped] = consumer.messages[0]!.ids as [string, string];
    await consumer.answer(0, [dropped]);
    const [a, b] = await Promise.all(answers);
    expect(a).toEqual([4]);
    expect(b).toBeInstanceOf(NoAnswer);
    expect(kept).not.toBe(dropped);
  });

  test('no reply within --request-timeout-ms: TimedOut', async () => {
    const { classify } = await setup({ requestTimeoutMs: 50 });
    const error = await classify().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimedOut);
    expect((error as Error).message).toBe('no answer within 50 ms');
  });

  test('a drawn number\'s alternative splits go out only while no consumer of a version before them is heard', async () => {
    const { gateway, consumer, clock, transport } = await setup();
    const announce = async (version: string, splits: boolean) => {
      const announcement: ModelAnnouncement = { version, consumer: version, ...(splits ? { splits } : {}) };
      await transport.publish(TOPIC.modelAnnouncements, { key: version, value: encodeJson(announcement) });
      await waitFor(() => gateway.modelVersion === version);
    };
    // One digit found, and an alternative reading it as two: three images.
    const split = { primary: 1, alternatives: [{ from: 0, to: 1, images: [1, 2] }] };
    const pixels = new Float32Array(3 * 784).fill(0.5, 784);
    const sent = async () => {
      const answered = gateway.classify(pixels, 3, { split });
      await waitFor(() => consumer.messages.length === 1);
      await consumer.answer(0);
      await answered;
      const [request] = consumer.messages.splice(0)[0]!.requests;
      return request!;
    };

    await announce('new', true);
    const withAlternatives = await sent();
    expect(withAlternatives.count).toBe(3);
    expect(withAlternatives.split).toEqual(split);

    // A consumer from before splits speaks: it would read the three images as three digits.
    await announce('old', false);
    const without = await sent();
    expect(without.count).toBe(1);
    expect(without.split).toBeUndefined();
    expect(Array.from(without.pixels).every((value) => value === 0)).toBe(true);

    // Three announcement periods without it: it is gone.
    await announce('new', true);
    clock.advance(3 * ANNOUNCE_EVERY_MS + 1);
    expect((await sent()).split).toEqual(split);
  });

  test('after stop: Unavailable', async () => {
    const { consumer, gateway, classify } = await setup();
    const admitted = [classify(), classify()];
    await waitFor(() => consumer.messages.length === 1);
    await consumer.answer(0);
    await Promise.all(admitted);
    await gateway.stop();
    expect(await classify().catch((e: unknown) => e)).toBeInstanceOf(Unavailable);
  });

  describe('Idempotency-Key', () => {
    const key = 'client-7/req-19';
    const stored = (id: string, createdAt: Date) => ({ id, digits: [3], probabilities: [Array.from({ length: 10 }, (_, d) => (d === 3 ? 0.91 : 0.01))], modelVersion: 'earlier', createdAt: createdAt.toISOString() });

    test('a first keyed request goes out under the id derived from the key and its image', async () => {
      const { consumer, gateway } = await setup();
      const answer = gateway.classify(image, 1, { idempotencyKey: key });
      await waitFor(() => consumer.messages.length === 1);
      expect(consumer.messages[0]!.ids).toEqual([idempotentRequestId(key, image, 1)]);
      await consumer.answer(0);
      expect((await answer).replayed).toBeUndefined();
    });

    test('a stored answer for the key is given back, replayed, without a message; from the day before too', async () => {
      const { consumer, gateway, store, metrics } = await setup();
      const yesterday = new Date(Date.now() - IDEMPOTENCY_WINDOW_MS);
      await store.saveResults([stored(idempotentRequestId(key, image, 1, yesterday.getTime()), yesterday)]);
      const answer = await gateway.classify(image, 1, { idempotencyKey: key });
      expect(answer).toMatchObject({ digits: [3], modelVersion: 'earlier', replayed: true });
      expect(answer.probabilities).toHaveLength(10);
      expect(consumer.messages).toHaveLength(0);
      expect(await metrics.registry.getSingleMetricAsString('stratus_idempotent_replays_total')).toContain('stratus_idempotent_replays_total 1');
      // Another image under the same key is another request.
      const other = new Float32Array(784).fill(0.5);
      const fresh = gateway.classify(other, 1, { idempotencyKey: key });
      await waitFor(() => consumer.messages.length === 1);
      expect(consumer.messages[0]!.ids).toEqual([idempotentRequestId(key, other, 1)]);
      await consumer.answer(0);
      expect((await fresh).replayed).toBeUndefined();
    });

    test('a store that is down, or slower than the look-up deadline, means computing again without waiting for it', async () => {
      for (const slow of [false, true]) {
        const { consumer, gateway, store } = await setup();
        let asked = 0;
        store.getResult = () => (asked++, new Promise(() => {}));
        if (!slow) store.healthy = () => false;
        const answer = gateway.classify(image, 1, { idempotencyKey: key });
        await waitFor(() => consumer.messages.length === 1, LOOKUP_DEADLINE_MS * 4);
        expect(asked).toBe(slow ? 2 : 0);
        await consumer.answer(0);
        expect((await answer).digits).toEqual([4]);
      }
    });

    test('a store that cannot be read means computing again, not an error', async () => {
      const { consumer, gateway, store } = await setup();
      store.getResult = () => Promise.reject(new Error('store down'));
      const answer = gateway.classify(image, 1, { idempotencyKey: key });
      await waitFor(() => consumer.messages.length === 1);
      await consumer.answer(0);
      expect((await answer).digits).toEqual([4]);
    });
  });

  describe('hedging', () => {
    test('where consumers run apart, a message with no reply in time is sent once more; the first answer wins', async () => {
      // The memory transport stands in for Kafka here: the setting says consumers may fail apart.
      const { consumer, classify, metrics } = await setup({ transport: 'kafka', hedgeAfterMs: 30 });
      const answer = classify();
      await waitFor(() => consumer.messages.length === 2, 2_000);
      expect(consumer.messages[1]!.ids).toEqual(consumer.messages[0]!.ids);
      await consumer.answer(1);
      expect((await answer).digits).toEqual([4]);
      await consumer.answer(0);
      expect(await metrics.registry.getSingleMetricAsString('stratus_hedges_total')).toContain('stratus_hedges_total{outcome="sent"} 1');
      expect(await metrics.registry.getSingleMetricAsString('stratus_hedge_delay_seconds')).toContain('stratus_hedge_delay_seconds 0.03');
    });

    test('in one process (the memory transport), and with --hedge-after-ms 0, there are no hedges', async () => {
      for (const config of [{}, { transport: 'kafka' as const, hedgeAfterMs: 0 }]) {
        const { consumer, classify, transport, metrics } = await setup({ hedgeAfterMs: 30, ...config });
        // A hedge is the transport's to send, when the request asks for one (hedgeAfterMs): the transport's
        // side is request-reply.test.ts's. Here, what the gateway asks of it.
        const asked: (RequestOptions | undefined)[] = [];
        const request = transport.request.bind(transport);
        transport.request = (topic, message, timeoutMs, options) => {
          asked.push(options);
          return request(topic, message, timeoutMs, options);
        };
        const answer = classify();
        await waitFor(() => consumer.messages.length === 1);
        expect(asked).toHaveLength(1);
        expect(asked[0]?.hedgeAfterMs).toBeUndefined();
        await consumer.answer(0);
        await answer;
        expect(consumer.messages).toHaveLength(1);
        expect(await metrics.registry.getSingleMetricAsString('stratus_hedges_total')).not.toContain('outcome=');
      }
    });
  });
});
