// POST /api/predict's drawn form: strokes in, the number read out, each digit with its probabilities.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { Point } from '../../src/preprocess/drawing.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';

interface DrawnAnswer {
  id: string;
  number: string;
  digits: { digit: number; probabilities: number[] }[];
  digit: number;
  probabilities: number[];
  model: { version: string };
}

// Synthetic pen traces on a 500×200 canvas, sampled like a pointer at a few px per event.
const line = (x: number, top = 30, bottom = 170): Point[] =>
  Array.from({ length: 29 }, (_, i) => ({ x, y: top + ((bottom - top) * i) / 28 }));
const ellipse = (cx: number): Point[] =>
  Array.from({ length: 41 }, (_, i) => ({ x: cx + 40 * Math.sin((i / 40) * 2 * Math.PI), y: 100 - 70 * Math.cos((i / 40) * 2 * Math.PI) }));
const drawing = (...strokes: Point[][]) => ({ width: 500, height: 200, strokes });

let stratus: Awaited<ReturnType<typeof startLocal>>;
let store: PouchStore;

beforeAll(async () => {
  store = new PouchStore({ adapter: 'memory', directory: `drawn-${crypto.randomUUID()}` });
  stratus = await startLocal([], { store });
}, 30_000);
afterAll(() => stratus.stop());

async function predict(body: unknown): Promise<DrawnAnswer> {
  const response = await postJson(`${stratus.url}/api/predict`, body);
  expect(response.status).toBe(200);
  return (await response.json()) as DrawnAnswer;
}

describe('drawn form of POST /api/predict', () => {
  test('a vertical line is read as 1', async () => {
    const answer = await predict({ drawing: drawing(line(100)) });
    expect(answer.number).toBe('1');
    expect(answer.digit).toBe(1);
    expect(answer.digits).toHaveLength(1);
    expect(answer.digits[0]?.probabilities).toHaveLength(10);
    expect(answer.digits[0]?.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
    expect(answer.probabilities).toEqual(answer.digits[0]?.probabilities as number[]);
    expect(answer.model.version).toMatch(/\S/);
  });

  test('the same 1 drawn at another size or place on a larger canvas is still 1', async () => {
    const answer = await predict({ drawing: { width: 2000, height: 800, lineWidth: 40, strokes: [line(1500, 100, 700)] } });
    expect(answer.number).toBe('1');
  });

  test('a 1 beside a 0 is the two-digit number 10, digits left to right, in one stored result', async () => {
    // The 0 drawn first: the order on the page decides, not the order of the strokes.
    const answer = await predict({ drawing: drawing(ellipse(300), line(100)) });
    expect(answer.number).toBe('10');
    expect(answer.digits.map((digit) => digit.digit)).toEqual([1, 0]);
    for (const { digit, probabilities } of answer.digits) {
      expect(probabilities.indexOf(Math.max(...probabilities))).toBe(digit);
    }
    expect(answer.digit).toBe(1);
    const stored = await store.getResult(answer.id);
    expect(stored?.digits).toEqual([1, 0]);
    expect(stored?.probabilities).toHaveLength(2);
  });

  test('three separate strokes are three digits', async () => {
    expect((await predict({ drawing: drawing(line(80), line(250), line(420)) })).number).toBe('111');
  });

  test('the pixels form answers as before, without the drawn form\'s fields', async () => {
    const answer = (await predict({ pixels: new Array(784).fill(0) })) as Partial<DrawnAnswer>;
    expect(Object.keys(answer).sort()).toEqual(['digit', 'id', 'model', 'probabilities']);
  });

  describe('bad drawings get a short 422 that never echoes them', () => {
    const marker = 123.456789;
    const many = (count: number, points: number) => Array.from({ length: count }, () => Array.from({ length: points }, () => ({ x: 1, y: 1 })));
    const cases: [string, unknown, string][] = [
      ['no strokes', { drawing: drawing() }, 'invalid_drawing'],
      ['an empty stroke', { drawing: drawing([]) }, 'invalid_drawing'],
      ['negative width', { drawing: { width: -marker, height: 200, strokes: [line(100)] } }, 'invalid_drawing'],
      ['canvas too large', { drawing: { width: 100_000, height: 200, strokes: [line(100)] } }, 'invalid_drawing'],
      ['a coordinate that is a string', { drawing: drawing([{ x: String(marker), y: 5 }] as unknown as Point[]) }, 'invalid_drawing'],
      ['a point without y', { drawing: drawing([{ x: marker }] as unknown as Point[]) }, 'invalid_drawing'],
      ['a coordinate far outside', { drawing: drawing([{ x: 1e9 + marker, y: 5 }]) }, 'invalid_drawing'],
      ['too many strokes', { drawing: { width: 500, height: 200, strokes: many(65, 1) } }, 'invalid_drawing'],
      ['too many points', { drawing: { width: 500, height: 200, strokes: many(2, 5000) } }, 'invalid_drawing'],
      ['strokes not an array', { drawing: { width: 500, height: 200, strokes: { 0: line(100) } } }, 'invalid_drawing'],
      ['drawing is null', { drawing: null }, 'invalid_drawing'],
      ['drawing is a list', { drawing: [line(100)] }, 'invalid_drawing'],
      ['both pixels and drawing', { pixels: new Array(784).fill(0), drawing: drawing(line(100)) }, 'invalid_body'],
      ['neither', { strokes: [line(100)] }, 'invalid_body'],
    ];
    test.each(cases)('%s', async (_name, body, code) => {
      const response = await postJson(`${stratus.url}/api/predict`, body);
      expect(response.status).toBe(422);
      const text = await response.text();
      expect(text.length).toBeLessThan(300);
      expect(text).not.toContain('123.45');
      const error = (JSON.parse(text) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe(code);
      expect(error.message.length).toBeGreaterThan(0);
    });
  });

  test('/docs describes both forms', async () => {
    const docs = (await (await fetch(`${stratus.url}/docs/json`)).json()) as {
      paths: Record<string, { post?: { requestBody?: { content: Record<string, { schema: { properties: Record<string, unknown> } }> } } }>;
    };
    const schema = docs.paths['/api/predict']?.post?.requestBody?.content['application/json']?.schema;
    expect(Object.keys(schema?.properties ?? {})).toEqual(expect.arrayContaining(['pixels', 'drawing']));
    // The page's own endpoints are not part of the API.
    expect(Object.keys(docs.paths).filter((path) => path.startsWith('/page') || path === '/')).toEqual([]);
  });
});
