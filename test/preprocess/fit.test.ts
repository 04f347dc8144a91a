// Step 3: the ink's longer side becomes 20 px, aspect ratio kept, by area averaging.
import { expect, test } from 'bun:test';
import { fitToBox } from '../../src/preprocess/fit.ts';
import { blankImage, type GreyImage } from '../../src/preprocess/image.ts';

function filled(width: number, height: number, value = 1): GreyImage {
  const image = blankImage(width, height);
  image.data.fill(value);
  return image;
}
const sum = (image: GreyImage) => image.data.reduce((a, b) => a + b, 0);

test('square ink fits 20×20 exactly and stays solid', () => {
  const out = fitToBox(filled(80, 80));
  expect([out.width, out.height]).toEqual([20, 20]);
  for (const v of out.data) expect(v).toBeCloseTo(1, 5);
});

test('the aspect ratio is kept: 80×20 becomes 20×5, 30×80 becomes 8×20 with a partly covered last column', () => {
  const wide = fitToBox(filled(80, 20));
  expect([wide.width, wide.height]).toEqual([20, 5]);
  const tall = fitToBox(filled(30, 80));
  expect([tall.width, tall.height]).toEqual([8, 20]);
  // 30 × 0.25 = 7.5 columns of ink: the 8th is half covered.
  expect(tall.data[7]).toBeCloseTo(0.5, 5);
  expect(sum(tall)).toBeCloseTo(30 * 80 * 0.25 * 0.25, 3);
});

test('a very thin tall stroke (a "1") is not stretched wide', () => {
  const one = fitToBox(filled(4, 100));
  expect([one.width, one.height]).toEqual([1, 20]);
  expect(one.data[10]).toBeCloseTo(0.8, 5);
});

test('area averaging, not nearest neighbour: fine detail becomes grey, total ink scales with the area', () => {
  const stripes = blankImage(40, 40);
  for (let y = 0; y < 40; y++) for (let x = 0; x < 40; x += 2) stripes.data[y * 40 + x] = 1;
  const out = fitToBox(stripes);
  // Nearest neighbour would give all 1 or all 0; every output pixel covers one inked and one empty column.
  for (const v of out.data) expect(v).toBeCloseTo(0.5, 5);
  expect(sum(out)).toBeCloseTo(sum(stripes) / 4, 3);
});

test('small ink is scaled up to the box too', () => {
  const out = fitToBox(filled(5, 10));
  expect([out.width, out.height]).toEqual([10, 20]);
  expect(Math.min(...out.data)).toBeCloseTo(1, 5);
});
