// drawingToDigitImages (segment, then draw each digit) and drawingCostUs, the estimate that decides
// whether a drawing is made on the event loop or on a thread (src/http/drawing-pool.ts).
import { expect, test } from 'bun:test';
import { CHEAP_DRAWING_US, drawingCostUs, drawingToDigitImages } from '../../src/preprocess/digit-images.ts';
import { validateDrawing } from '../../src/preprocess/drawing.ts';
import { drawingToPixels } from '../../src/preprocess/mnist-style.ts';
import { packDrawing, unpackDrawing } from '../../src/preprocess/packed-drawing.ts';
import { segmentDrawing, segmentStrokes } from '../../src/preprocess/segment.ts';
import { splitAlternatives } from '../../src/preprocess/split-alternatives.ts';
import { costliestDrawing } from '../helpers/costly-drawing.ts';
import { composeNumber, loadPendigits, seededRandom } from '../helpers/pendigits.ts';

const samples = loadPendigits().slice(0, 600);
const numberOf = (length: number, seed: number) => {
  const random = seededRandom(seed);
  const digits = Array.from({ length }, () => samples[Math.floor(random() * samples.length)]!);
  return validateDrawing(composeNumber(digits, random).drawing);
};

test('the images are those of the digits segmentation finds, left to right', () => {
  const drawing = numberOf(4, 7);
  const { pixels, count } = drawingToDigitImages(drawing);
  const digits = segmentDrawing(drawing);
  expect(count).toBe(digits.length);
  digits.forEach((digit, i) => expect(pixels.subarray(i * 784, (i + 1) * 784)).toEqual(drawingToPixels(digit)));
});

test('digits written into each other: the images of the digits found, then those of the alternative splits, which the split names', () => {
  const random = seededRandom(9);
  const touching = Array.from({ length: 40 }, () => validateDrawing(composeNumber([0, 1, 2].map(() => samples[Math.floor(random() * samples.length)]!), random, [-0.15, -0.05]).drawing));
  const drawing = touching.find((d) => drawingToDigitImages(d).split !== undefined)!;
  expect(drawing).toBeDefined();
  const { pixels, count, split } = drawingToDigitImages(drawing);
  const segmentation = segmentStrokes(drawing);
  const imageOf = (members: readonly number[]) => drawingToPixels({ ...drawing, strokes: members.map((m) => segmentation.strokes[m]!) });
  const image = (i: number) => pixels.subarray(i * 784, (i + 1) * 784);
  expect(split!.primary).toBe(segmentation.pieces.length);
  segmentation.pieces.forEach((members, i) => expect(image(i)).toEqual(imageOf(members)));
  // The first alternatives splitAlternatives offers, as many as the budget allows, each naming its images
  // in order after the digits and the alternatives before it.
  const offered = splitAlternatives(segmentation, () => 0, Infinity).slice(0, split!.alternatives.length);
  expect(split!.alternatives.map(({ from, to }) => ({ from, to }))).toEqual(offered.map(({ from, to }) => ({ from, to })));
  expect(split!.alternatives.flatMap((a) => a.images)).toEqual(Array.from({ length: count - split!.primary }, (_, i) => split!.primary + i));
  split!.alternatives.forEach((alternative, k) => alternative.images.forEach((i, part) => expect(image(i)).toEqual(imageOf(offered[k]!.pieces[part]!))));
});

test('a handwritten digit is cheap; the costliest drawing the API admits is some forty times the cheap bound', () => {
  for (let seed = 1; seed <= 20; seed++) expect(drawingCostUs(numberOf(1, seed))).toBeLessThan(CHEAP_DRAWING_US);
  expect(drawingCostUs(validateDrawing(costliestDrawing()))).toBeGreaterThan(30 * CHEAP_DRAWING_US);
});

test('the estimate grows with the ink a drawing puts down, not with its canvas', () => {
  const digit = numberOf(1, 3);
  const onLargerCanvas = { ...digit, width: 4096, height: 4096, lineWidth: 64 };
  expect(drawingCostUs(onLargerCanvas)).toBe(drawingCostUs(digit));
  // The same strokes drawn at ten times the size cost the same: each digit fills the same box.
  const larger = { ...digit, strokes: digit.strokes.map((stroke) => stroke.map((p) => ({ x: p.x * 10, y: p.y * 10 }))) };
  expect(drawingCostUs(larger)).toBeCloseTo(drawingCostUs(digit), 6);
  expect(drawingCostUs(numberOf(6, 3))).toBeGreaterThan(drawingCostUs(numberOf(2, 3)));
});

test('a packed drawing unpacks to the same drawing', () => {
  const drawing = numberOf(3, 11);
  expect(unpackDrawing(packDrawing(drawing))).toEqual(drawing);
  const withPen = { ...drawing, lineWidth: 12 };
  expect(unpackDrawing(packDrawing(withPen))).toEqual(withPen);
});
