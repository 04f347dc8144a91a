// Local mode's gateway flags from outside: where inference runs, and what overload and deadlines do.
import { describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplit, type MnistSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';

const PIXELS = 784;
const image = (split: MnistSplit, i: number) => Array.from(split.images.subarray(i * PIXELS, (i + 1) * PIXELS));

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
    // A long batching wait keeps the first request in flight while the second arrives.
    const stratus = await startLocal(['--max-in-flight', '1', '--max-wait-ms', '400']);
    try {
      const pixels = new Array(PIXELS).fill(0);
      const first = postJson(`${stratus.url}/api/predict`, { pixels });
      await Bun.sleep(50);
      const second = await postJson(`${stratus.url}/api/predict`, { pixels });
      expect(second.status).toBe(503);
      expect(second.headers.get('retry-after')).toBe('1');
      expect(((await second.json()) as { error: { code: string } }).error.code).toBe('overloaded');
      expect((await first).status).toBe(200);
      expect((await postJson(`${stratus.url}/api/predict`, { pixels })).status).toBe(200);
    } finally {
      await stratus.stop();
    }
  });

  test('a request that cannot finish in time gets 504', async () => {
    const stratus = await startLocal(['--request-timeout-ms', '100', '--max-wait-ms', '1000']);
    try {
      const started = performance.now();
      const response = await postJson(`${stratus.url}/api/predict`, { pixels: new Array(PIXELS).fill(0) });
      expect(response.status).toBe(504);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe('timeout');
      expect(performance.now() - started).toBeLessThan(900);
    } finally {
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
