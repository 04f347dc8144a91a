// The fault tests' client: a stream of real MNIST digits against one or more gateways, a few requests at a
// time. A 503 (not ready, overloaded) is a refusal, retried after a pause; with idempotency keys, a request
// whose gateway went away is sent again to another (as a client of a load balancer would). Any other
// non-2xx is kept as a failure, never retried, so a lost or timed-out request shows up instead of being
// papered over. Each of the `concurrency` lanes is a user of its own, with its own session cookie: the
// gateway's rate limits and fair shares are per client (src/http/admission.ts), and a stream of many
// users' requests must not look like one client flooding.
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { issuedSessions } from '../helpers/sessions.ts';

export interface Digits {
  readonly bodies: readonly string[];
  readonly labels: readonly number[];
}

/** The first `count` test digits as /api/predict bodies (3 decimals: a tenth of the JSON, same answers). */
export function testDigits(count: number): Digits {
  const split = loadSplit(MNIST_DIR, 'test');
  const bodies: string[] = [];
  const labels: number[] = [];
  for (let i = 0; i < count; i++) {
    bodies.push(JSON.stringify({ pixels: Array.from(split.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) }));
    labels.push(split.labels[i] as number);
  }
  return { bodies, labels };
}

export interface Answer {
  readonly id: string;
  readonly digit: number;
  /** performance.now() when it was first sent, and how long until it was answered (retries included). */
  readonly sentAt: number;
  readonly ms: number;
}

export interface StreamResult {
  /** By digit index: every index got exactly one 2xx (the stream retries until it does or fails). */
  readonly answers: Map<number, Answer>;
  readonly refusals: number;
  /** Requests sent again to another gateway after theirs went away (only with idempotency keys). */
  readonly retries: number;
  /** Non-503 errors: status and body, or the network error. */
  readonly failures: string[];
}

export interface Trigger {
  /** Fires once this many requests have been answered. */
  readonly afterAnswers: number;
  readonly action: () => Promise<void>;
}

/** The value at fraction `p` of ascending `sorted`; 0 when it is empty. */
export const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;

/** The answers to requests sent from `from` (performance.now()) for `forMs`: their count, p99 and max. */
export function latencyAfter(result: StreamResult, from: number, forMs: number): { count: number; p99Ms: number; maxMs: number } {
  const times = [...result.answers.values()].filter((a) => a.sentAt >= from && a.sentAt < from + forMs).map((a) => a.ms).sort((a, b) => a - b);
  return { count: times.length, p99Ms: percentile(times, 0.99), maxMs: times.at(-1) ?? 0 };
}

export interface StreamOptions {
  readonly concurrency?: number;
  readonly triggers?: Trigger[];
  /**
   * Each request carries `Idempotency-Key: <prefix><index>`; a gateway that stops answering (connection
   * refused or reset) is dropped, as a load balancer would, and its requests are sent again, same key, to
   * another. Without keys a network error is a failure.
   */
  readonly idempotencyKeyPrefix?: string;
}

/**
 * Sends every body once (with 503 retries), `concurrency` at a time, spread round the gateways, and runs
 * each trigger's action when its count of answers is reached and the trigger before it is done, alongside
 * the stream; resolves when the stream and the actions are done.
 */
export async function stream(gateways: string | readonly string[], digits: Digits, options: StreamOptions = {}): Promise<StreamResult> {
  const live = typeof gateways === 'string' ? [gateways] : [...gateways];
  const answers = new Map<number, Answer>();
  const failures: string[] = [];
  let refusals = 0;
  let retries = 0;
  let next = 0;
  let turn = 0;
  const pendingTriggers = [...(options.triggers ?? [])].sort((a, b) => a.afterAnswers - b.afterAnswers);
  // In order, each once the one before it has finished: under a fast stream the count for "start the broker
  // again" could come while the kill before it was still starting up, and the start, finding the broker
  // alive, did nothing; the kill then left it down for good.
  let actions = Promise.resolve();
  const fire = () => {
    while (pendingTriggers.length > 0 && answers.size >= (pendingTriggers[0] as Trigger).afterAnswers) {
      actions = actions.then((pendingTriggers.shift() as Trigger).action);
    }
  };
  const { idempotencyKeyPrefix } = options;

  const send = async (index: number, session: string): Promise<void> => {
    const sentAt = performance.now();
    const headers: Record<string, string> = { 'content-type': 'application/json', cookie: session };
    if (idempotencyKeyPrefix !== undefined) headers['idempotency-key'] = `${idempotencyKeyPrefix}${index}`;
    for (;;) {
      const gateway = live[turn++ % live.length];
      if (gateway === undefined) {
        failures.push(`#${index}: no gateway left`);
        return;
      }
      let response: Response;
      try {
        response = await fetch(`${gateway}/api/predict`, { method: 'POST', headers, body: digits.bodies[index] as string, signal: AbortSignal.timeout(120_000) });
      } catch (error) {
        if (idempotencyKeyPrefix !== undefined) {
          const at = live.indexOf(gateway);
          if (at !== -1) live.splice(at, 1);
          if (live.length > 0) {
            retries++;
            continue;
          }
        }
        failures.push(`#${index}: ${error instanceof Error ? error.message : String(error)}`);
        return;
      }
      if (response.status === 503) {
        refusals++;
        await response.arrayBuffer();
        await Bun.sleep(200);
        continue;
      }
      if (!response.ok) {
        failures.push(`#${index}: HTTP ${response.status} ${await response.text()}`);
        return;
      }
      const body = (await response.json()) as { id: string; digit: number };
      if (answers.has(index)) failures.push(`#${index}: answered twice`);
      answers.set(index, { id: body.id, digit: body.digit, sentAt, ms: performance.now() - sentAt });
      fire();
      return;
    }
  };

  const concurrency = options.concurrency ?? 16;
  // Issued by the first gateway; the others know them (one session key for all, as deployed).
  const sessions = await issuedSessions(live[0] as string, concurrency);
  const worker = async (lane: number) => {
    while (next < digits.bodies.length) await send(next++, sessions[lane] as string);
  };
  await Promise.all(Array.from({ length: concurrency }, (_, lane) => worker(lane)));
  fire();
  await actions;
  return { answers, refusals, retries, failures };
}

/** The digits one clean pass gives, through KServe batches (one round trip per 200, under Kafka's 1 MB). */
export async function referenceDigits(gatewayUrl: string, digits: Digits): Promise<{ digits: number[]; ids: string[] }> {
  const all: number[] = [];
  const ids: string[] = [];
  for (let start = 0; start < digits.bodies.length; start += 200) {
    const chunk = digits.bodies.slice(start, start + 200).map((body) => (JSON.parse(body) as { pixels: number[] }).pixels);
    const response = await fetch(`${gatewayUrl}/v2/models/mnist/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: [{ name: 'pixels', shape: [chunk.length, 784], datatype: 'FP32', data: chunk.flat() }] }),
    });
    if (!response.ok) throw new Error(`reference pass: HTTP ${response.status} ${await response.text()}`);
    const body = (await response.json()) as { id: string; outputs: { name: string; data: number[] }[] };
    all.push(...(body.outputs.find((o) => o.name === 'digit')?.data ?? []));
    ids.push(body.id);
  }
  return { digits: all, ids };
}

/** id → first digit of every result in the store's results databases (one per period, src/adapters/store/periods.ts). */
export async function storedResults(couchdbUrl: string, prefix: string): Promise<Map<string, number>> {
  // Bounded: a server that accepts and never answers fails the test with this line, not with its timeout.
  const read = async (path: string) => {
    const response = await fetch(`${couchdbUrl}/${path}`, { signal: AbortSignal.timeout(15_000) });
    if (!response.ok) throw new Error(`reading ${path}: HTTP ${response.status}`);
    return response.json();
  };
  const databases = ((await read('_all_dbs')) as string[]).filter((name) => name.startsWith(`${prefix}results-`));
  const stored = new Map<string, number>();
  for (const db of databases) {
    const body = (await read(`${encodeURIComponent(db)}/_all_docs?include_docs=true`)) as { rows: { id: string; doc: { digits: number[] } }[] };
    for (const row of body.rows) stored.set(row.id, row.doc.digits[0] as number);
  }
  return stored;
}
