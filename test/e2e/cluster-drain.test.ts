// SIGTERM in cluster mode, gateway and consumer as separate processes on a real Kafka and a CouchDB-API
// server: a draining gateway answers what it holds, refuses what comes after with a JSON 503 and exits 0;
// a draining consumer finishes storing what it answered before it leaves, and exits 0; a drain that
// overruns --shutdown-timeout-ms (requests cut off, or a store that does not answer) exits 1 and says so.
// Requests are held in flight by freezing what they wait for (the consumer with SIGSTOP, the store behind
// a proxy that stops answering), never by timing: each step waits for the state the previous one brings.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { clusterServices, type ClusterServices } from '../helpers/cluster-services.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { waitFor } from '../helpers/wait.ts';
import { ProcessGroup, withLogs, type ClusterTarget, type RoleProcess } from './cluster-processes.ts';
import { storedResults, testDigits } from './load-client.ts';

const services = await clusterServices();

if (!services) {
  test.skip('SIGTERM drains in cluster mode (no Kafka on this machine: see the warning above)', () => {});
} else {
  describeClusterDrain(services);
}

function describeClusterDrain(services: ClusterServices): void {
  const digits = testDigits(40);
  const group = new ProcessGroup();
  const prefix = `drain_${Date.now()}_`;
  const target: ClusterTarget = { kafkaBrokers: services.kafkaBrokers, couchdbUrl: services.couchdbUrl, prefix, replication: 1 };
  const store = freezableProxy(services.couchdbUrl);
  // The consumer writes through the proxy, so that a test can make its store hang; everything else
  // (the gateways, the test's own reads) goes to the server directly.
  const behindProxy: ClusterTarget = { ...target, couchdbUrl: store.url };
  const inFlight = async (role: RoleProcess) => sampleOf(await role.metrics(), 'stratus_in_flight_requests');
  const predict = (url: string, i: number) =>
    fetch(`${url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: digits.bodies[i] });
  /** Sends digits from..from+count-1 at once; the status, id and digit of each answer, null for a broken
   * connection (settled as they come, so that a broken one is never an unhandled rejection). */
  const send = (url: string, from: number, count: number) =>
    Promise.all(
      Array.from({ length: count }, (_, i) =>
        predict(url, from + i).then(
          async (response) => ({ status: response.status as number | null, ...((await response.json()) as { id?: string; digit?: number }) }),
          () => ({ status: null as number | null, id: undefined, digit: undefined }),
        ),
      ),
    );
  /** Whether `role`'s readiness names `reason`: e.g. a gateway that closed its intake. */
  const notReadyFor = async (role: RoleProcess, reason: string) => {
    const ready = await role.ready().catch(() => null);
    return ready !== null && ready.status === 503 && ready.reasons.includes(reason);
  };

  // One consumer at a time in the group, so that it takes every request. The consumers go first, on a
  // fresh group: a store frozen while a consumer still holds earlier messages would hold up their
  // partitions' next fetches too, and the test would measure that instead of the drain.
  /** Never signalled: the consumer tests send through it. Ready once a consumer has announced its model. */
  let gateway: RoleProcess;
  beforeAll(() => {
    gateway = group.start('gateway', target);
  });

  afterAll(async () => {
    store.thaw();
    await group.dispose();
    store.close();
  }, 60_000);

  /** Answers `count` digits from `from` with the store frozen behind them: the consumer replied to each,
   * and holds their messages while it waits to store the results. */
  async function answeredWithStoreFrozen(from: number, count: number) {
    store.freeze();
    const answers = await send(gateway.url, from, count);
    expect(answers.map((a) => a.status)).toEqual(new Array(count).fill(200));
    expect(answers.map((a) => a.digit)).toEqual(digits.labels.slice(from, from + count));
    await waitFor(() => store.held().some((path) => path.includes(`/${prefix}results-`)), 20_000, 20);
    return answers.map((a) => a.id as string);
  }

  describe('a consumer', () => {
    test('SIGTERM the moment it reports ready: it already hears the signal, stops cleanly and exits 0', async () => {
      // Ready came before the end of its start (a second group join, the first announcement), when the
      // signal still had its default action: about one time in four it died of it, drained nothing.
      await withLogs(group, async () => {
        for (let round = 0; round < 3; round++) {
          const consumer = group.start('consumer', target);
          await consumer.waitReady();
          consumer.proc.kill('SIGTERM');
          expect(await consumer.proc.exited).toBe(0);
        }
      });
    }, 120_000);

    test('SIGTERM while its answers are being stored: it stores them all before it leaves, and exits 0', async () => {
      await withLogs(group, async () => {
        // Not the default 8 s: the store stays frozen as long as the test likes, and what is proven is that
        // the drain waits for it, not how long users wait (the overrun tests below cover the budget ending).
        const consumer = group.start('consumer', behindProxy, ['--shutdown-timeout-ms', '60000']);
        await Promise.all([consumer.waitReady(), gateway.waitReady()]);
        let ids: string[] = [];
        try {
          ids = await answeredWithStoreFrozen(20, 5);
          consumer.proc.kill('SIGTERM');
          await waitFor(() => notReadyFor(consumer, 'consumer is not ready'), 20_000, 20);
          // It cannot have finished: its writes are held.
          expect(consumer.proc.exitCode).toBeNull();
        } finally {
          store.thaw();
        }
        expect(await consumer.proc.exited).toBe(0);
        const stored = await storedResults(target.couchdbUrl, prefix);
        expect(ids.map((id) => stored.get(id))).toEqual(digits.labels.slice(20, 25));
      });
    }, 120_000);

    test('SIGTERM while its store hangs past --shutdown-timeout-ms: it still ends, exit 1, saying it stopped unclean', async () => {
      await withLogs(group, async () => {
        // 300 ms, not the default 8 s: the budget ends the same way at any length, only sooner.
        const stuck = group.start('consumer', behindProxy, ['--shutdown-timeout-ms', '300']);
        await stuck.waitReady();
        try {
          await answeredWithStoreFrozen(30, 3);
          stuck.proc.kill('SIGTERM');
          // Not the store's own timeout (30 s) that ends it: the process's deadline, 1.5 s past the budget.
          expect(await stuck.proc.exited).toBe(1);
          expect(group.logTails()).toContain('stratus: stopping took longer than --shutdown-timeout-ms 300 and 1.5 s to close; exiting unclean');
        } finally {
          store.thaw();
        }
      });
    }, 120_000);
  });

  describe('a gateway', () => {
    // Stopped and resumed with SIGSTOP/SIGCONT to hold requests in flight; it stores to the server
    // directly. It also takes over what the stuck consumer above left unacknowledged.
    let consumer: RoleProcess;
    beforeAll(async () => {
      consumer = group.start('consumer', target);
      await withLogs(group, () => consumer.waitReady());
    }, 180_000);
    afterAll(() => {
      consumer?.proc.kill('SIGCONT');
    });

    test('SIGTERM with requests in flight: all answered, a late request gets a JSON 503, exit 0', async () => {
      await withLogs(group, async () => {
        // Not the default 8 s: the consumer is held frozen as long as the test likes (see the store test above).
        const draining = group.start('gateway', target, ['--shutdown-timeout-ms', '60000']);
        await draining.waitReady();
        // The consumer frozen: what the gateway sends now waits in Kafka, in flight at the gateway.
        consumer.proc.kill('SIGSTOP');
        let answered: ReturnType<typeof send> = Promise.resolve([]);
        try {
          answered = send(draining.url, 0, 8);
          await waitFor(async () => (await inFlight(draining)) === 8, 20_000, 20);
          draining.proc.kill('SIGTERM');
          await waitFor(() => notReadyFor(draining, 'gateway is not ready'), 20_000, 20);
          const late = await predict(draining.url, 8);
          expect([late.status, late.headers.get('retry-after')]).toEqual([503, '1']);
          expect(((await late.json()) as { error: { code: string } }).error.code).toBe('unavailable');
          // Still draining: what it holds cannot be answered while the consumer is frozen.
          expect(draining.proc.exitCode).toBeNull();
        } finally {
          consumer.proc.kill('SIGCONT');
        }
        const answers = await answered;
        expect(answers.map((a) => a.status)).toEqual(new Array(8).fill(200));
        expect(answers.map((a) => a.digit)).toEqual(digits.labels.slice(0, 8));
        expect(await draining.proc.exited).toBe(0);
      });
    }, 120_000);

    test('a drain that overruns --shutdown-timeout-ms: what it still holds is cut off, and it exits 1 saying so', async () => {
      await withLogs(group, async () => {
        // 300 ms, not the default 8 s: the budget ends the same way at any length, only sooner.
        const hasty = group.start('gateway', target, ['--shutdown-timeout-ms', '300']);
        await hasty.waitReady();
        consumer.proc.kill('SIGSTOP');
        try {
          const answered = send(hasty.url, 10, 3);
          await waitFor(async () => (await inFlight(hasty)) === 3, 20_000, 20);
          hasty.proc.kill('SIGTERM');
          expect(await hasty.proc.exited).toBe(1);
          // Its clients lost the connection: none got an answer it could take for one.
          expect((await answered).map((a) => a.status)).toEqual([null, null, null]);
          expect(group.logTails()).toContain('stratus: unclean stop: 3 in-flight requests were cut off: not answered within --shutdown-timeout-ms 300');
        } finally {
          consumer.proc.kill('SIGCONT');
        }
      });
    }, 120_000);
  });
}

/**
 * An HTTP proxy in front of `target` that can be frozen: requests then wait, unanswered, until thawed, as
 * with a server that accepts connections and never answers. `held()` lists the paths of those waiting.
 * Credentials in `target` (a CouchDB in a container has some) go upstream with each request: Bun's fetch
 * sends a URL's user and password as basic auth.
 */
function freezableProxy(target: string) {
  let gate: { promise: Promise<void>; resolve: () => void } | null = null;
  const waiting: string[] = [];
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    // A frozen request must outlast Bun's idle timeout; 0 turns it off.
    idleTimeout: 0,
    async fetch(request) {
      const { pathname, search } = new URL(request.url);
      const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
      if (gate) {
        waiting.push(pathname);
        await gate.promise;
        waiting.splice(waiting.indexOf(pathname), 1);
      }
      const headers = new Headers(request.headers);
      headers.delete('host');
      const answer = await fetch(new URL(pathname + search, target), { method: request.method, headers, body, redirect: 'manual' });
      // Passed on whole: fetch has already decoded a compressed body, so its encoding no longer applies.
      const passed = new Headers(answer.headers);
      passed.delete('content-encoding');
      passed.delete('content-length');
      return new Response(await answer.arrayBuffer(), { status: answer.status, headers: passed });
    },
  });
  return {
    url: `http://127.0.0.1:${server.port}`,
    freeze() {
      gate ??= Promise.withResolvers<void>();
    },
    thaw() {
      gate?.resolve();
      gate = null;
    },
    held: () => [...waiting],
    close: () => server.stop(true),
  };
}
