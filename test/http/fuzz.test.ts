// Thousands of mangled bodies at a live gateway: each invalid one gets a 4xx, none a 5xx, and the process
// lives on. A mangling can produce a valid body by chance; an independent check decides which expect 200.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { postJson, startLocal } from '../helpers/local-stratus.ts';

const PIXELS = 784;
const BODIES = 3000;

/** Small seeded generator (mulberry32) so a failure can be replayed with the same seed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const isPixel = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;

/** What the API must accept, judged here without the server's code. */
function isValid(path: string, body: string): boolean {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (path === '/api/predict') {
    return parsed !== null && typeof parsed === 'object' && Array.isArray(parsed.pixels) && parsed.pixels.length === PIXELS && parsed.pixels.every(isPixel);
  }
  const input = parsed?.inputs?.[0];
  return (
    Array.isArray(parsed?.inputs) && parsed.inputs.length === 1 && typeof input?.name === 'string' && input.datatype === 'FP32' &&
    Array.isArray(input.shape) && input.shape.length === 2 && input.shape[1] === PIXELS && Number.isInteger(input.shape[0]) &&
    input.shape[0] >= 1 && input.shape[0] <= 1024 && Array.isArray(input.data) && input.data.length === input.shape[0] * PIXELS &&
    input.data.every(isPixel)
  );
}

function malformedBody(rand: () => number): string {
  const pick = <T>(items: T[]): T => items[Math.floor(rand() * items.length)] as T;
  const valid = JSON.stringify({ pixels: Array.from({ length: PIXELS }, () => Math.round(rand() * 100) / 100) });
  const junkValue = () => pick<unknown>([null, true, 'x', -1, 1.5, 1e308, [], {}, [0.5], '0.5', -0, 2 ** 53]);
  switch (Math.floor(rand() * 10)) {
    case 0: // cut anywhere
      return valid.slice(0, Math.floor(rand() * (valid.length - 1)));
    case 1: {
      // flip one byte into something that breaks the syntax or the type
      const at = Math.floor(rand() * valid.length);
      return valid.slice(0, at) + pick(['"', '{', ']', 'x', ',', ':', '\\', '\u0000']) + valid.slice(at + 1);
    }
    case 2: // wrong length
      return JSON.stringify({ pixels: new Array(Math.floor(rand() * 2000)).fill(0.5).filter((_, i, a) => a.length !== PIXELS || i > 0) });
    case 3: {
      // one bad value in an otherwise good image
      const pixels: unknown[] = new Array(PIXELS).fill(0.25);
      pixels[Math.floor(rand() * PIXELS)] = junkValue();
      return JSON.stringify({ pixels });
    }
    case 4: // wrong top-level shapes
      return pick(['', 'null', '[]', '42', '"pixels"', '{}', '{"pixels":null}', '{"pixels":{}}', '{"pixels":"[]"}']);
    case 5: // nested arrays
      return JSON.stringify({ pixels: Array.from({ length: 28 }, () => new Array(28).fill(0.5)) });
    case 6: // random bytes
      return Array.from({ length: 1 + Math.floor(rand() * 200) }, () => String.fromCharCode(Math.floor(rand() * 0x3000))).join('');
    case 7: // KServe with a broken tensor
      return JSON.stringify({ inputs: [{ name: 'x', shape: [Math.floor(rand() * 3) - 1, PIXELS], datatype: pick(['FP32', 'FP16', 'BYTES']), data: new Array(PIXELS).fill(junkValue()) }] });
    case 8: // deep nesting
      return '['.repeat(1 + Math.floor(rand() * 5000));
    default: // non-finite literals JSON does not allow
      return `{"pixels":[${pick(['NaN', 'Infinity', '-Infinity', 'undefined', '0x1'])}${',0'.repeat(PIXELS - 1)}]}`;
  }
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
beforeAll(async () => {
  stratus = await startLocal();
});
afterAll(() => stratus.stop());

test(`${BODIES} mangled bodies: a 4xx for each invalid one, never a 5xx, and the gateway stays up`, async () => {
  const rand = random(20261125);
  const statuses = new Map<number, number>();
  const wrong: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next < BODIES) {
      const i = next++;
      const body = malformedBody(rand);
      const path = i % 3 === 0 ? '/v2/models/mnist/infer' : '/api/predict';
      const response = await postJson(`${stratus.url}${path}`, body);
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      const text = await response.text();
      const expected = isValid(path, body) ? 'ok' : 'client error';
      const got = response.status === 200 ? 'ok' : response.status >= 400 && response.status < 500 ? 'client error' : 'other';
      if (got !== expected) wrong.push(`${response.status} for ${path} ${body.slice(0, 80)}`);
      if (got === 'client error') expect(JSON.parse(text).error.code).toBeString();
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  expect(wrong).toEqual([]);
  // The mangling must mostly produce invalid bodies, or this test would prove little.
  const invalid = [...statuses].filter(([s]) => s >= 400).reduce((n, [, count]) => n + count, 0);
  expect(invalid).toBeGreaterThan(BODIES * 0.9);
  expect((await fetch(`${stratus.url}/v2/health/ready`)).status).toBe(200);
  const good = await postJson(`${stratus.url}/api/predict`, { pixels: new Array(PIXELS).fill(0) });
  expect(good.status).toBe(200);
}, 120_000);
