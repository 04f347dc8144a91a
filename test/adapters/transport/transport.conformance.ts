// One suite every Transport must pass (memory now, Kafka in cluster mode), run once per adapter of the
// transport registry. A "cluster" gives fresh transport instances that meet on the same broker, the way
// the actors of one deployment do. What the registry declares the adapter can do is checked too.
import { afterEach, describe, expect, test } from 'bun:test';
import { createTransport, transportAdapter, type TransportName, type TransportSettings } from '../../../src/adapters/transport/registry.ts';
import {
  HEADER,
  RequestTimeoutError,
  TransportClosedError,
  deadLetterTopic,
  type Delivery,
  type Transport,
} from '../../../src/adapters/transport/transport.ts';
import { waitFor } from '../../helpers/wait.ts';

export interface TransportCluster {
  /** A started transport joined to this cluster. */
  connect(): Promise<Transport>;
  /** Redelivery attempts before a message is dead-lettered, as this cluster is configured. */
  readonly maxAttempts: number;
  /** The settings a separate process would be started with to reach this cluster. */
  readonly settings: TransportSettings;
  teardown(): Promise<void>;
}

const bytes = (text: string) => new TextEncoder().encode(text);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

/** `adapter`: the registry name whose declared capabilities this transport must live up to. */
export function runTransportConformance(adapter: TransportName, makeCluster: () => Promise<TransportCluster>): void {
  const { capabilities } = transportAdapter(adapter);
  describe(`Transport conformance: ${adapter}`, () => {
    let cluster: TransportCluster | null = null;
    let opened: Transport[] = [];
    let topicCount = 0;
    // A fresh topic per test keeps leftovers of one test out of the next.
    const freshTopic = () => `conformance.${Date.now()}.${++topicCount}`;

    const connect = async () => {
      cluster ??= await makeCluster();
      const transport = await cluster.connect();
      opened.push(transport);
      return transport;
    };

    afterEach(async () => {
      for (const transport of opened) await transport.close();
      opened = [];
      await cluster?.teardown();
      cluster = null;
    });

    test(`processes started apart ${capabilities.crossProcess ? 'meet' : 'do not meet'} on it (declared crossProcess: ${capabilities.crossProcess})`, async () => {
      cluster ??= await makeCluster();
      // Each made from the settings alone, as two processes would make them.
      const [sender, receiver] = await Promise.all([createTransport(adapter, cluster.settings), createTransport(adapter, cluster.settings)]);
      opened.push(sender, receiver);
      await Promise.all([sender.start(), receiver.start()]);
      const topic = freshTopic();
      const seen: string[] = [];
      await receiver.subscribe(topic, { group: 'apart' }, async (m) => void seen.push(text(m.value)));
      await sender.publish(topic, { key: 'k', value: bytes('across') });
      if (capabilities.crossProcess) await waitFor(() => seen.length === 1, 10_000);
      else {
        // The receiver's own message on the topic, sent after the sender's and with its key: on a shared
        // broker the group would get the sender's first. Once this one is in, the other is not coming.
        await receiver.publish(topic, { key: 'k', value: bytes('own') });
        await waitFor(() => seen.includes('own'));
      }
      expect(seen).toEqual(capabilities.crossProcess ? ['across'] : ['own']);
    });

    test('delivers key, value and headers unchanged', async () => {
      const transport = await connect();
      const topic = freshTopic();
      const seen: Delivery[] = [];
      await transport.subscribe(topic, { group: 'g' }, async (message) => void seen.push(message));
      const value = new Uint8Array([0, 1, 2, 255, 128]);
      await transport.publish(topic, { key: 'k-1', value, headers: { 'x-test': 'yes' } });
      await waitFor(() => seen.length === 1);
      const [message] = seen;
      expect(message?.key).toBe('k-1');
      expect([...(message?.value ?? [])]).toEqual([...value]);
      expect(message?.headers['x-test']).toBe('yes');
      expect(message?.topic).toBe(topic);
      expect(message?.attempt).toBe(1);
    });

    test('members of one group share the messages; every group sees all of them', async () => {
      const [a, b, c] = [await connect(), await connect(), await connect()];
      const topic = freshTopic();
      const byMember = { a: [] as string[], b: [] as string[], c: [] as string[] };
      await a.subscribe(topic, { group: 'workers' }, async (m) => void byMember.a.push(text(m.value)));
      await b.subscribe(topic, { group: 'workers' }, async (m) => void byMember.b.push(text(m.value)));
      await c.subscribe(topic, { group: 'audit' }, async (m) => void byMember.c.push(text(m.value)));
      const sent = Array.from({ length: 40 }, (_, i) => `m${i}`);
      for (const value of sent) await a.publish(topic, { key: value, value: bytes(value) });
      await waitFor(() => byMember.a.length + byMember.b.length === sent.length && byMember.c.length === sent.length);
      expect([...byMember.a, ...byMember.b].sort()).toEqual([...sent].sort());
      expect(byMember.a.length).toBeGreaterThan(0);
      expect(byMember.b.length).toBeGreaterThan(0);
      expect([...byMember.c].sort()).toEqual([...sent].sort());
    });

    test('a failed handler gets the message again', async () => {
      const transport = await connect();
      const topic = freshTopic();
      const attempts: number[] = [];
      await transport.subscribe(topic, { group: 'g' }, async (message) => {
        attempts.push(message.attempt);
        if (message.attempt < 2) throw new Error('not yet');
      });
      await transport.publish(topic, { key: 'k', value: bytes('retry me') });
      await waitFor(() => attempts.length === 2);
      expect(attempts).toEqual([1, 2]);
    });

    test('a message that always fails ends on the dead-letter topic with the reason', async () => {
      const transport = await connect();
      const topic = freshTopic();
      let attempts = 0;
      const dead: Delivery[] = [];
      await transport.subscribe(deadLetterTopic(topic), { group: 'dlq' }, async (m) => void dead.push(m));
      await transport.subscribe(topic, { group: 'g' }, async () => {
        attempts++;
        throw new Error('cannot parse this');
      });
      await transport.publish(topic, { key: 'poison', value: bytes('poison') });
      await waitFor(() => dead.length === 1, 10_000);
      expect(attempts).toBe(cluster?.maxAttempts ?? -1);
      expect(text(dead[0]!.value)).toBe('poison');
      expect(dead[0]!.headers[HEADER.deadLetterReason]).toContain('cannot parse this');
      expect(dead[0]!.headers[HEADER.deadLetterTopic]).toBe(topic);
    });

    test('the consumer carries on after a poison message', async () => {
      const transport = await connect();
      const topic = freshTopic();
      const good: string[] = [];
      await transport.subscribe(topic, { group: 'g', concurrency: 4 }, async (m) => {
        if (text(m.value) === 'poison') throw new Error('bad');
        good.push(text(m.value));
      });
      await transport.publish(topic, { key: 'p', value: bytes('poison') });
      for (let i = 0; i < 5; i++) await transport.publish(topic, { key: `g${i}`, value: bytes(`ok${i}`) });
      await waitFor(() => good.length === 5);
      expect(good.sort()).toEqual(['ok0', 'ok1', 'ok2', 'ok3', 'ok4']);
    });

    test('request/reply: each of many concurrent callers gets its own answer', async () => {
      const [server, clientA, clientB] = [await connect(), await connect(), await connect()];
      const topic = freshTopic();
      await server.subscribe(topic, { group: 'servers', concurrency: 64 }, async (request) => {
        await server.reply(request, { value: bytes(`echo:${text(request.value)}`) });
      });
      const calls = Array.from({ length: 100 }, (_, i) => {
        const client = i % 2 === 0 ? clientA : clientB;
        return client.request(topic, { key: `r${i}`, value: bytes(`r${i}`) }, 10_000).then((reply) => text(reply.value));
      });
      const replies = await Promise.all(calls);
      expect(replies).toEqual(Array.from({ length: 100 }, (_, i) => `echo:r${i}`));
    });

    test('a request nobody answers times out', async () => {
      const transport = await connect();
      const started = performance.now();
      const outcome = transport.request(freshTopic(), { key: 'k', value: bytes('hello?') }, 150);
      await expect(outcome).rejects.toBeInstanceOf(RequestTimeoutError);
      // A lower bound only: it shows the deadline was waited out, and a slow machine only adds to it (the
      // 10 ms off allow for a timer firing a little early).
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });

    test('closing rejects requests still waiting', async () => {
      const transport = await connect();
      const outcome = transport.request(freshTopic(), { key: 'k', value: bytes('x') }, 30_000);
      await transport.close();
      await expect(outcome).rejects.toBeInstanceOf(TransportClosedError);
      expect(transport.healthy()).toBe(false);
    });

    test('after unsubscribe a member gets nothing more', async () => {
      const transport = await connect();
      const topic = freshTopic();
      const kept: string[] = [];
      const dropped: string[] = [];
      await transport.subscribe(topic, { group: 'kept' }, async (m) => void kept.push(text(m.value)));
      const subscription = await transport.subscribe(topic, { group: 'dropped' }, async (m) => void dropped.push(text(m.value)));
      await transport.publish(topic, { key: '1', value: bytes('first') });
      await waitFor(() => kept.length === 1 && dropped.length === 1);
      await subscription.unsubscribe();
      await transport.publish(topic, { key: '2', value: bytes('second') });
      await waitFor(() => kept.length === 2);
      expect(dropped).toEqual(['first']);
    });

    test('a group keeps what was published while it had no member, for the next one to join', async () => {
      const transport = await connect();
      const topic = freshTopic();
      const first = await transport.subscribe(topic, { group: 'restarting' }, async () => {});
      await first.unsubscribe();
      await transport.publish(topic, { key: 'k', value: bytes('while away') });
      const seen: string[] = [];
      await transport.subscribe(topic, { group: 'restarting' }, async (m) => void seen.push(text(m.value)));
      await waitFor(() => seen.length === 1);
      expect(seen).toEqual(['while away']);
    });

    test('concurrency bounds the unacknowledged messages one member holds', async () => {
      const transport = await connect();
      const topic = freshTopic();
      let holding = 0;
      let most = 0;
      let handled = 0;
      await transport.subscribe(topic, { group: 'g', concurrency: 3 }, async () => {
        most = Math.max(most, ++holding);
        // A slow handler, so that deliveries pile up against the bound.
        await Bun.sleep(5);
        holding--;
        handled++;
      });
      // All at once: published one by one, a quick handler could finish each before the next arrived, and
      // the bound would never be reached.
      await Promise.all(Array.from({ length: 20 }, (_, i) => transport.publish(topic, { key: `${i}`, value: bytes(`${i}`) })));
      await waitFor(() => handled === 20);
      expect(most).toBe(3);
    });
  });
}
