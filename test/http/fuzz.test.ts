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

/** The drawing contract (src/preprocess/drawing.ts): sides in (0, 4096], 1..64 non-empty strokes, at most
 * 8,192 points in all, each {x, y} finite and within two largest canvases of the origin. */
function isValidDrawing(drawing: any): boolean {
  const side = (v: unknown) => typeof v === 'number' && v > 0 && v <= 4096;
  const coordinate = (v: unknown) => typeof v === 'number' && Math.abs(v) <= 8192;
  if (drawing === null || typeof drawing !== 'object' || Array.isArray(drawing)) return false;
  if (!side(drawing.width) || !side(drawing.height) || (drawing.lineWidth !== undefined && !side(drawing.lineWidth))) return false;
  const strokes = drawing.strokes;
  if (!Array.isArray(strokes) || strokes.length < 1 || strokes.length > 64) return false;
  if (!strokes.every((stroke: unknown) => Array.isArray(stroke) && stroke.length > 0)) return false;
  if (strokes.reduce((n: number, stroke: unknown[]) => n + stroke.length, 0) > 8192) return false;
  return strokes.every((stroke: any[]) =>
    stroke.every((p) => p !== null && typeof p === 'object' && !Array.isArray(p) && coordinate(p.x) && coordinate(p.y)),
  );
}

/** What the API must accept, judged here without the server's code. */
function isValid(path: string, body: string): boolean {
  let parsed: any;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  if (path === '/api/predict') {
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return false;
    // Exactly one of the two forms.
    if ((parsed.pixels === undefined) === (parsed.drawing === undefined)) return false;
    if (parsed.drawing !== undefined) return isValidDrawing(parsed.drawing);
    return Array.isArray(parsed.pixels) && parsed.pixels.length === PIXELS && parsed.pixels.every(isPixel);
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
  switch (Math.floor(rand() * 11)) {
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
    case 10:
      return JSON.stringify(mangledDrawing(rand, pick, junkValue));
    case 8: // deep nesting
      return '['.repeat(1 + Math.floor(rand() * 5000));
    default: // non-finite literals JSON does not allow
      return `{"pixels":[${pick(['NaN', 'Infinity', '-Infinity', 'undefined', '0x1'])}${',0'.repeat(PIXELS - 1)}]}`;
  }
}

/** The drawn form of /api/predict: a plausible drawing, then (mostly) one thing broken in it. */
function mangledDrawing(rand: () => number, pick: <T>(items: T[]) => T, junk: () => unknown): unknown {
  const point = () => ({ x: Math.round(rand() * 5000) / 10, y: Math.round(rand() * 2000) / 10 });
  const strokes: unknown[][] = Array.from({ length: 1 + Math.floor(rand() * 3) }, () => Array.from({ length: 1 + Math.floor(rand() * 30) }, point));
  const drawing: Record<string, unknown> = { width: 500, height: 200, lineWidth: 12, strokes };
  const stroke = strokes[0] as unknown[];
  switch (Math.floor(rand() * 12)) {
    case 0: // left valid
      break;
    case 1:
      drawing[pick(['width', 'height', 'lineWidth'])] = pick<unknown>([junk(), 0, -5, 5000, Infinity.toString()]);
      break;
    case 2:
      drawing.strokes = junk();
      break;
    case 3:
      strokes.push([]);
      break;
    case 4:
      stroke[Math.floor(rand() * stroke.length)] = junk();
      break;
    case 5:
      stroke[0] = { x: junk(), y: 10 };
      break;
    case 6:
      stroke[0] = { x: pick([1e9, -1e9, 1e308]), y: 10 };
      break;
    case 7:
      drawing.strokes = Array.from({ length: 65 }, () => [point()]);
      break;
    case 8:
      drawing.strokes = [Array.from({ length: 8193 }, point)];
      break;
    case 9:
      return { pixels: new Array(PIXELS).fill(0.5), drawing };
    case 10:
      return { drawing: junk() };
    default:
      delete drawing[pick(['width', 'height', 'strokes'])];
  }
  return { drawing };
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
beforeAll(async () => {
  // What each body gets is the question here, not how many one client may send: 3,000 bodies in a few
  // seconds are far over the default API rate of one client (test/http/admission.test.ts checks that).
  stratus = await startLocal(['--rate-limit', 'api=off']);
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
      if (got === 'client error') {
        // The Open Inference Protocol's shape on its routes, the code beside it in a header; the app's elsewhere.
        const { error } = JSON.parse(text) as { error: unknown };
        if (path.startsWith('/v2/')) expect([typeof error, response.headers.get('stratus-error-code')]).toEqual(['string', expect.any(String)]);
        else expect((error as { code: unknown }).code).toBeString();
      }
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
