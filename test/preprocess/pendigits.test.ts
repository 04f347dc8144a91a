// The pendigits reader used by the benchmark, these tests and the browser tests.
import { expect, test } from 'bun:test';
import { composeNumber, loadPendigits, parsePendigits, PENDIGITS_BOX, seededRandom, spreadSample } from '../helpers/pendigits.ts';

const sample = `.INCLUDE        dene.doc
.SEGMENT DIGIT    0 ? "8"
.COMMENT 8 12  224
.PEN_DOWN
 267  333
 266  342
.PEN_UP
.DT 100

.SEGMENT DIGIT 1-2 ? "4"
.PEN_DOWN
 10  400
.PEN_UP
.PEN_DOWN
 20  300
 20  100
.PEN_UP
`;

test('parses labels and strokes, flipping y so it points down like a canvas', () => {
  expect(parsePendigits(sample)).toEqual([
    { label: 8, writer: 12, strokes: [[{ x: 267, y: PENDIGITS_BOX - 333 }, { x: 266, y: PENDIGITS_BOX - 342 }]] },
    { label: 4, writer: 0, strokes: [[{ x: 10, y: 100 }], [{ x: 20, y: 200 }, { x: 20, y: 400 }]] },
  ]);
  expect(() => parsePendigits('.SEGMENT DIGIT 0 ? \n')).toThrow('line 1');
  expect(() => parsePendigits('.SEGMENT DIGIT 0 ? "1"\n.PEN_DOWN\n 1 x\n')).toThrow('line 3');
});

test('the whole file: 7,494 digits by 30 writers with the class counts of DATA.md, 1–3 strokes each', () => {
  const samples = loadPendigits();
  expect(samples).toHaveLength(7494);
  const counts = new Array<number>(10).fill(0);
  for (const s of samples) counts[s.label] = (counts[s.label] as number) + 1;
  expect(counts).toEqual([780, 779, 780, 719, 780, 720, 720, 778, 719, 719]);
  expect(samples.every((s) => s.strokes.length >= 1 && s.strokes.length <= 3)).toBe(true);
  expect(new Set(samples.map((s) => s.writer)).size).toBe(30);
  // The first digit is an 8 whose pen starts at the top right and goes down: y flipped.
  const first = samples[0]?.strokes[0];
  expect(first?.[0]).toEqual({ x: 267, y: 167 });
  expect(spreadSample(samples, 10).map((s) => s.label).sort()).toHaveLength(10);
});

test('composeNumber is seeded and writes the digits left to right with gaps', () => {
  const samples = spreadSample(loadPendigits(), 50);
  const digits = samples.slice(0, 4);
  const a = composeNumber(digits, seededRandom(3));
  expect(composeNumber(digits, seededRandom(3))).toEqual(a);
  expect(a.labels).toEqual(digits.map((d) => d.label));
  let previousRight = -Infinity;
  let strokeIndex = 0;
  for (const digit of digits) {
    const own = a.drawing.strokes.slice(strokeIndex, strokeIndex + digit.strokes.length).flat();
    strokeIndex += digit.strokes.length;
    const left = Math.min(...own.map((p) => p.x));
    expect(left - previousRight).toBeGreaterThanOrEqual(10 - 1e-9);
    previousRight = Math.max(...own.map((p) => p.x));
  }
  const ys = a.drawing.strokes.flat().map((p) => p.y);
  expect(Math.min(...ys)).toBeGreaterThanOrEqual(0);
  expect(Math.max(...ys)).toBeLessThanOrEqual(a.drawing.height);
  expect(previousRight).toBeLessThanOrEqual(a.drawing.width);
});
