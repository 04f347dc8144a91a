// Step 1: strokes drawn with a round, anti-aliased pen.
import { expect, test } from 'bun:test';
import { rasteriseStrokes } from '../../src/preprocess/rasterise.ts';

const at = (image: { width: number; data: Float32Array }, x: number, y: number) => image.data[y * image.width + x] as number;

test('a horizontal line is solid along its centre and as thick as the pen, with soft edges', () => {
  // Off the pixel grid (y = 10.3), so the rim falls inside pixels and shows the anti-aliasing.
  const image = rasteriseStrokes([[{ x: 5, y: 10.3 }, { x: 25, y: 10.3 }]], 30, 20, 3);
  // The column at x = 15: full ink within the pen's radius, a ramp at the rim, nothing beyond.
  const column = Array.from({ length: 20 }, (_, y) => at(image, 15, y));
  const thickness = column.reduce((a, b) => a + b, 0);
  expect(thickness).toBeCloseTo(6, 0);
  expect(at(image, 15, 9)).toBe(1);
  expect(at(image, 15, 10)).toBe(1);
  expect(at(image, 15, 5)).toBe(0);
  expect(column.some((v) => v > 0 && v < 1)).toBe(true);
  // Round caps: the ink reaches past each end by the radius, not more.
  expect(at(image, 2, 9)).toBeGreaterThan(0);
  expect(at(image, 0, 9)).toBe(0);
});

test('values stay in 0..1 where strokes cross, and a one-point stroke is a round dot', () => {
  const image = rasteriseStrokes(
    [
      [{ x: 0, y: 10 }, { x: 20, y: 10 }],
      [{ x: 10, y: 0 }, { x: 10, y: 20 }],
      [{ x: 30, y: 10 }],
    ],
    40,
    20,
    2,
  );
  expect(Math.max(...image.data)).toBe(1);
  expect(Math.min(...image.data)).toBe(0);
  const dot = Array.from({ length: 20 * 10 }, (_, i) => at(image, 25 + (i % 10), Math.floor(i / 10))).reduce((a, b) => a + b, 0);
  expect(dot).toBeCloseTo(Math.PI * 2 * 2, 0);
});

test('ink outside the image is clipped, not wrapped to the next row', () => {
  const image = rasteriseStrokes([[{ x: -10, y: 5 }, { x: 3, y: 5 }]], 10, 10, 1);
  expect(at(image, 2, 4)).toBe(1);
  expect(at(image, 9, 3)).toBe(0);
  expect(at(image, 9, 4)).toBe(0);
});
