// Local mode's gateway flags from outside: where inference runs, and what overload and deadlines do.
import { describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import type { OutgoingMessage } from '../../src/adapters/transport/transport.ts';
import { TOPIC } from '../../src/protocol/topics.ts';
import { loadSplit, type MnistSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';
import { waitFor } from '../helpers/wait.ts';

const PIXELS = 784;
const image = (split: MnistSplit, i: number) => Array.from(split.images.subarray(i * PIXELS, (i + 1) * PIXELS));

/** Local mode's in-process transport, except that the first prediction message is published only once
 * the test releases it: its request stays in flight for as long as the test needs, however fast or slow
 * the machine is. */
class HoldingTransport extends MemoryTransport {
  private readonly gate = Promise.withResolvers<void>();
  /** The first prediction message has reached the transport and waits. */
  holding = false;

  override async publish(topic: string, message: OutgoingMessage): Promise<void> {
    if (topic === TOPIC.predictions && !this.holding) {
      this.holding = true;
      await this.gate.promise;
    }
    return super.publish(topic, message);
  }

  release(): void {
    this.gate.resolve();
  }
}

/** The engine /metrics says serves: the stratus_inference_engine series at 1. */
async function servingEngine(url: string): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return /^stratus_inference_engine\{engine="(\w+)"\} 1$/m.exec(text)?.[1];
}

// The default engine is onnx wherever ONNX Runtime loads, as it does here (from node_modules).
test.each([
  ['worker', 'onnx', []],
  ['worker', 'wasm', ['--engine', 'wasm']],
  ['main', 'onnx', ['--inference', 'main']],
  ['main', 'wasm', ['--inference', 'main', '--engine', 'wasm']],
])('inference on the %s thread, engine %s: reads real digits, and /metrics names the engine', async (_thread, engine, flags) => {
  const stratus = await startLocal(flags as string[]);
  try {
    const mnist = loadSplit(MNIST_DIR, 'test');
    const answers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const response = await postJson(`${stratus.url}/api/predict`, { pixels: image(mnist, i) });
        return ((await response.json()) as { digit: number }).digit;
      }),
    );
    expect(answers.filter((digit, i) => digit === mnist.labels[i]).length).toBeGreaterThanOrEqual(19);
    expect(await servingEngine(stratus.url)).toBe(engine);
  } finally {
    await stratus.stop();
  }
});

describe('overload and deadlines', () => {
  test('beyond max in-flight the gateway answers 503 with Retry-After, then recovers', async () => {
    // The first request's message is held in the transport: the request is in flight, holding the one
    // slot, until the second has been answered.
    const transport = new HoldingTransport();
    const stratus = await startLocal(['--max-in-flight', '1'], { transport });
    try {
      const pixels = new Array(PIXELS).fill(0);
      const first = postJson(`${stratus.url}/api/predict`, { pixels });
      await waitFor(() => transport.holding);
      const second = await postJson(`${stratus.url}/api/predict`, { pixels });
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('overloaded');
      transport.release();
      expect((await first).status).toBe(200);
      expect((await postJson(`${stratus.url}/api/predict`, { pixels })).status).toBe(200);
    } finally {
      transport.release();
      await stratus.stop();
    }
  });

  test('a request that cannot finish in time gets 504', async () => {
    // Its message stays in the transport until the test is over: no consumer can answer it, so whatever
    // answer comes is the deadline's, however long the machine took to get there.
    const transport = new HoldingTransport();
    const stratus = await startLocal(['--request-timeout-ms', '100'], { transport });
    try {
      const response = await postJson(`${stratus.url}/api/predict`, { pixels: new Array(PIXELS).fill(0) });
      expect(transport.holding).toBe(true);
      expect(response.status).toBe(504);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout');
    } finally {
      transport.release();
      await stratus.stop();
    }
  });
});

test('a chunked body over --max-body-bytes gets a JSON 413, as a declared one does; the process stays up', async () => {
  const stratus = await startLocal([]);
  try {
    const mib = new Uint8Array(1 << 20).fill(0x20);
    let sent = 0;
    // 24 MiB with no declared length, against the default limit of 16 MiB.
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 24) controller.enqueue(mib);
        else controller.close();
      },
    });
    const response = await fetch(`${stratus.url}/api/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('body_too_large');
    expect((await postJson(`${stratus.url}/api/predict`, { pixels: new Array(PIXELS).fill(0) })).status).toBe(200);
  } finally {
    await stratus.stop();
  }
});

test('an Idempotency-Key outlives the process: after a restart on the same store the retry gets the first answer', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'stratus-idempotency-'));
  const flags = ['--store', 'pouchdb', '--data-dir', dataDir];
  const mnist = loadSplit(MNIST_DIR, 'test');
  const body = { pixels: image(mnist, 21) };
  const headers = { 'idempotency-key': 'order-42/attempt' };
  try {
    let stratus = await startLocal(flags);
    let first: { id: string; digit: number };
    try {
      first = (await (await postJson(`${stratus.url}/api/predict`, body, headers)).json()) as { id: string; digit: number };
      expect(first.digit).toBe(mnist.labels[21]!);
    } finally {
      // A graceful stop finishes the store writes it took on: the answer is on disk after it.
      await stratus.stop();
    }
    stratus = await startLocal(flags);
    try {
      const again = await postJson(`${stratus.url}/api/predict`, body, headers);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
      expect(await again.json()).toEqual(first);
    } finally {
      await stratus.stop();
    }
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
});
