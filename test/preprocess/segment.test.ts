// segmentDrawing: a drawn number → one drawing per digit, left to right.
import { expect, test } from 'bun:test';
import type { Drawing, Point, Stroke } from '../../src/preprocess/drawing.ts';
import { segmentDrawing } from '../../src/preprocess/segment.ts';
import { composeNumber, loadPendigits, PENDIGITS_BOX, seededRandom } from '../helpers/pendigits.ts';

// Synthetic digits 100 px tall, their left edge at x; y grows downwards from 0.
const shift = (x: number, points: [number, number][]): Stroke => points.map(([px, py]): Point => ({ x: x + px, y: py }));
const one = (x: number): Stroke[] => [shift(x, [[0, 0], [0, 100]])];
const zero = (x: number): Stroke[] => [
  shift(x, [[25, 0], [50, 25], [50, 75], [25, 100], [0, 75], [0, 25], [25, 0]]),
];
/** An open 4 in two strokes that never touch: the "L" and, to its right, a bar begun below the L's top. */
const openFour = (x: number): Stroke[] => [shift(x, [[10, 0], [0, 60], [30, 60]]), shift(x, [[38, 20], [38, 100]])];
/** A 4 whose bar stops short of the cross line: the pieces overlap in x. */
const crossedFour = (x: number): Stroke[] => [shift(x, [[30, 0], [0, 60], [50, 60]]), shift(x, [[35, 66], [35, 100]])];
/** A 5 whose top bar was drawn apart, off to the right. */
const five = (x: number): Stroke[] => [
  shift(x, [[5, 8], [3, 45], [40, 55], [42, 85], [0, 100]]),
  shift(x, [[48, 0], [80, 0]]),
];
/** A 7 with its cross bar. */
const seven = (x: number): Stroke[] => [shift(x, [[0, 0], [50, 0], [15, 100]]), shift(x, [[15, 50], [45, 50]])];

function drawing(strokes: Stroke[], lineWidth?: number): Drawing {
  return lineWidth === undefined ? { width: 800, height: 200, strokes } : { width: 800, height: 200, strokes, lineWidth };
}

function lefts(parts: Drawing[]): number[] {
  return parts.map((part) => Math.round(Math.min(...part.strokes.flat().map((p) => p.x))));
}

test.each([
  ['an open 4 whose two strokes do not touch', openFour(100)],
  ['a 4 whose bar stops short of the cross line', crossedFour(100)],
  ['a 5 whose bar is off to the right', five(100)],
  ['a 7 with a cross bar', seven(100)],
])('%s stays one digit', (_, strokes) => {
  const parts = segmentDrawing(drawing(strokes));
  expect(parts).toHaveLength(1);
  expect(parts[0]?.strokes).toEqual(strokes);
});

test('digits side by side come apart, left to right whatever order they were drawn in', () => {
  const strokes = [...zero(300), ...one(100), ...openFour(400), ...five(180), ...seven(500)];
  const parts = segmentDrawing(drawing(strokes));
  expect(lefts(parts)).toEqual([100, 180, 300, 400, 500]);
  expect(parts[1]?.strokes).toEqual(five(180));
});

test('"11" is two digits; so are two 1s written close, unless the pen was wide enough to join them', () => {
  expect(segmentDrawing(drawing([...one(100), ...one(140)]))).toHaveLength(2);
  expect(segmentDrawing(drawing([...one(100), ...one(110)]))).toHaveLength(2);
  expect(segmentDrawing(drawing([...one(100), ...one(110)], 12))).toHaveLength(1);
});

test('each part keeps the canvas and pen of the drawing, the strokes in drawing order, and no stroke is lost', () => {
  const strokes = [...seven(300), ...five(100)].reverse();
  const parts = segmentDrawing(drawing(strokes, 8));
  for (const part of parts) expect([part.width, part.height, part.lineWidth]).toEqual([800, 200, 8]);
  expect(parts.flatMap((part) => part.strokes)).toHaveLength(strokes.length);
  expect(parts[0]?.strokes).toEqual(five(100).reverse());
  expect(segmentDrawing(drawing([]))).toEqual([]);
});

test('every pendigits digit stays one piece, and numbers built from them split into their digits', () => {
  const samples = loadPendigits();
  const split = samples.filter((s) => segmentDrawing({ width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: s.strokes }).length !== 1);
  expect(split.length / samples.length).toBeLessThan(0.002);
  const random = seededRandom(11);
  let right = 0;
  const count = 300;
  for (let n = 0; n < count; n++) {
    const digits = Array.from({ length: 2 + Math.floor(random() * 5) }, () => samples[Math.floor(random() * samples.length)] as (typeof samples)[number]);
    const { labels, drawing: number } = composeNumber(digits, random);
    if (segmentDrawing(number).length === labels.length) right++;
  }
  expect(right / count).toBeGreaterThanOrEqual(0.99);
}, 30_000);

test('neighbours whose ink touches only through a wide pen come apart once together they are too wide for one digit', () => {
  /** A round 0, 70 wide. */
  const roundZero = (x: number): Stroke[] => [shift(x, [[35, 0], [70, 30], [70, 70], [35, 100], [0, 70], [0, 30], [35, 0]])];
  const wideSeven = (x: number): Stroke[] => [shift(x, [[0, 0], [120, 0], [40, 100]]), shift(x, [[50, 50], [100, 50]])];
  // Centre lines 8 px apart, a 12 px pen: the ink of the two 0s runs together, the writer's strokes do not.
  expect(lefts(segmentDrawing(drawing([...roundZero(100), ...roundZero(178)], 12)))).toEqual([100, 178]);
  expect(segmentDrawing(drawing([...roundZero(100), ...roundZero(178)]))).toHaveLength(2);
  // One digit wider than tall whose strokes cross stays whole, pen or no pen; so do two 1s a pen joins.
  expect(segmentDrawing(drawing(wideSeven(100), 12))).toHaveLength(1);
  expect(segmentDrawing(drawing([...one(100), ...one(110)], 12))).toHaveLength(1);
});
