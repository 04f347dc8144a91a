// splitAlternatives: where geometry leaves digits written into each other as one piece, the ways to cut
// that piece into digits, for the classifier to judge; nothing where the digits stand apart.
import { expect, test } from 'bun:test';
import type { Drawing, Stroke } from '../../src/preprocess/drawing.ts';
import { segmentStrokes } from '../../src/preprocess/segment.ts';
import { MAX_ALTERNATIVES, MAX_SPLIT_STROKES, splitAlternatives } from '../../src/preprocess/split-alternatives.ts';
import { composeNumber, loadPendigits, seededRandom } from '../helpers/pendigits.ts';

const samples = loadPendigits().slice(0, 2000);
const unlimited: { costUs: (members: readonly number[]) => number; budgetUs: number } = { costUs: () => 1, budgetUs: Infinity };
const alternativesOf = (drawing: Drawing, { costUs, budgetUs } = unlimited) => splitAlternatives(segmentStrokes(drawing), costUs, budgetUs);

/** Two-digit numbers written with `gaps`, and for each the strokes (by index) of its first digit. */
function pairs(gaps: [number, number], count: number, seed: number) {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => {
    const digits = [0, 1].map(() => samples[Math.floor(random() * samples.length)]!);
    const { drawing } = composeNumber(digits, random, gaps);
    const firstStrokes = digits[0]!.strokes.length;
    return { drawing, first: drawing.strokes.map((_, i) => i).filter((i) => i < firstStrokes) };
  });
}

test('two digits written into each other stay one piece, and the cut between them is among its alternatives', () => {
  const merged = pairs([-0.15, -0.05], 200, 3).filter(({ drawing }) => segmentStrokes(drawing).pieces.length === 1);
  expect(merged.length).toBeGreaterThan(50);
  const found = merged.filter(({ drawing, first }) => {
    const strokes = drawing.strokes.length;
    const second = Array.from({ length: strokes }, (_, i) => i).filter((i) => !first.includes(i));
    return alternativesOf(drawing).some(({ from, to, pieces }) => from === 0 && to === 1 && JSON.stringify(pieces) === JSON.stringify([first, second]));
  });
  // 123 of 127 here. The rest: digits whose strokes interleave so that no left-to-right order of whole
  // strokes separates them, or a digit less tall than PART_HEIGHT_FRACTION of the pair.
  expect(found.length / merged.length).toBeGreaterThan(0.9);
});

test('digits written apart seldom get alternatives: only a digit wide and of several tall strokes does', () => {
  const apart = pairs([0.1, 0.45], 300, 5);
  const offered = apart.filter(({ drawing }) => alternativesOf(drawing).length > 0);
  expect(offered.length).toBeLessThanOrEqual(3);
});

const line = (x0: number, y0: number, x1: number, y1: number): Stroke =>
  Array.from({ length: 11 }, (_, k) => ({ x: x0 + ((x1 - x0) * k) / 10, y: y0 + ((y1 - y0) * k) / 10 }));
/** `n` tall slanted strokes, each crossing the next (slanting the other way), 40 apart: one piece. */
const crossing = (n: number): Drawing => ({
  width: 1000,
  height: 200,
  strokes: Array.from({ length: n }, (_, k) => (k % 2 === 0 ? line(k * 40, 0, k * 40 + 80, 100) : line(k * 40 + 80, 0, k * 40, 100))),
});

test('a piece is cut only between whole strokes, into runs of them taken left to right', () => {
  const alternatives = alternativesOf(crossing(3));
  expect(alternatives.length).toBe(3);
  expect(alternatives.map((a) => a.pieces).sort()).toEqual([[[0], [1, 2]], [[0, 1], [2]], [[0], [1], [2]]].sort());
  expect(alternatives.every((a) => a.from === 0 && a.to === 1)).toBe(true);
});

test('a part less tall than a digit of the number is no digit: a wide 5 or 7 keeps its bar', () => {
  // A tall stroke crossed by a bar as wide as the number is tall.
  const sevenWithBar: Drawing = { width: 300, height: 200, strokes: [line(0, 0, 90, 0), line(90, 0, 40, 100), line(10, 50, 100, 50)] };
  expect(segmentStrokes(sevenWithBar).pieces).toHaveLength(1);
  expect(alternativesOf(sevenWithBar)).toEqual([]);
});

test('what drawing the alternatives costs stays within the budget, and pieces of too many strokes are not cut', () => {
  const costUs = (members: readonly number[]) => 100 * members.length;
  expect(alternativesOf(crossing(3), { costUs, budgetUs: 0 })).toEqual([]);
  // Each alternative draws the piece's three strokes once.
  expect(alternativesOf(crossing(3), { costUs, budgetUs: 650 })).toHaveLength(2);
  expect(alternativesOf(crossing(MAX_SPLIT_STROKES))).not.toHaveLength(0);
  expect(alternativesOf(crossing(MAX_SPLIT_STROKES + 1))).toEqual([]);
  // Two such pieces side by side offer 2 × 28 ways to cut them; a drawing gets MAX_ALTERNATIVES of them.
  const one = crossing(MAX_SPLIT_STROKES);
  const shifted = one.strokes.map((stroke) => stroke.map((p) => ({ x: p.x + 600, y: p.y })));
  const two = { ...one, strokes: [...one.strokes, ...shifted] };
  expect(segmentStrokes(two).pieces).toHaveLength(2);
  expect(alternativesOf(two)).toHaveLength(MAX_ALTERNATIVES);
});
