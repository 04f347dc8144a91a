// The width and slant distortions added for pen-drawn digits (src/train/augment.ts: stretchX, shear).
import { expect, test } from 'bun:test';
import { AUGMENT_RANGES, randomWarp, SIDE, warp } from '../../src/train/augment.ts';
import { seededRandom } from '../../src/train/random.ts';

const identity = { dx: 0, dy: 0, angle: 0, scale: 1 };

/** A vertical bar, 2 px wide, over the middle rows: its width and lean are easy to measure. */
function bar(): Float32Array {
  const image = new Float32Array(SIDE * SIDE);
  for (let y = 4; y < 24; y++) for (let x = 13; x < 15; x++) image[y * SIDE + x] = 1;
  return image;
}

/** Mean x of the ink in row `y`. */
function rowCentre(image: Float32Array, y: number): number {
  let sum = 0;
  let ink = 0;
  for (let x = 0; x < SIDE; x++) {
    sum += x * image[y * SIDE + x]!;
    ink += image[y * SIDE + x]!;
  }
  return sum / ink;
}

const inkInRow = (image: Float32Array, y: number) => image.subarray(y * SIDE, (y + 1) * SIDE).reduce((a, b) => a + b, 0);

test('stretchX widens or narrows the strokes and leaves the height alone', () => {
  const wide = new Float32Array(SIDE * SIDE);
  const narrow = new Float32Array(SIDE * SIDE);
  warp(bar(), wide, { ...identity, stretchX: 1.5 });
  warp(bar(), narrow, { ...identity, stretchX: 0.5 });
  expect(inkInRow(wide, 13)).toBeCloseTo(3, 1);
  expect(inkInRow(narrow, 13)).toBeCloseTo(1, 1);
  // Rows above and below the bar stay blank: no vertical change.
  expect(inkInRow(wide, 2)).toBe(0);
  expect(inkInRow(wide, 25)).toBe(0);
});

test('shear leans the top left and the bottom right (positive), the centre row staying put', () => {
  const out = new Float32Array(SIDE * SIDE);
  warp(bar(), out, { ...identity, shear: 0.2 });
  const centre = rowCentre(bar(), 13);
  expect(rowCentre(out, 6)).toBeLessThan(centre - 1);
  expect(rowCentre(out, 21)).toBeGreaterThan(centre + 1);
  expect(Math.abs(rowCentre(out, 13) - centre)).toBeLessThan(0.2);
});

test('random draws of width and slant stay within AUGMENT_RANGES and cover them', () => {
  const random = seededRandom(3);
  const draws = Array.from({ length: 2000 }, () => randomWarp(random));
  const stretches = draws.map((d) => d.stretchX);
  const shears = draws.map((d) => d.shear);
  expect(Math.min(...stretches)).toBeGreaterThanOrEqual(AUGMENT_RANGES.stretchXMin!);
  expect(Math.max(...stretches)).toBeLessThanOrEqual(AUGMENT_RANGES.stretchXMax!);
  expect(Math.min(...stretches)).toBeLessThan(0.8);
  expect(Math.max(...stretches)).toBeGreaterThan(1.2);
  expect(Math.max(...shears.map(Math.abs))).toBeLessThanOrEqual(AUGMENT_RANGES.shear!);
  expect(Math.max(...shears)).toBeGreaterThan(0.15);
  expect(Math.min(...shears)).toBeLessThan(-0.15);
});
