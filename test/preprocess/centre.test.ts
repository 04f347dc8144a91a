// Step 4: into 28×28 with the centre of mass at (14, 14), as MNIST.
import { expect, test } from 'bun:test';
import { centreInFrame, centreOfMass, FRAME } from '../../src/preprocess/centre.ts';
import { inkBounds } from '../../src/preprocess/crop.ts';
import { blankImage, type GreyImage } from '../../src/preprocess/image.ts';
import { massCentre } from './mnist-framing.ts';

function image(width: number, height: number, ink: (x: number, y: number) => number): GreyImage {
  const out = blankImage(width, height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out.data[y * width + x] = ink(x, y);
  return out;
}

test('centreOfMass weighs by ink, in pixel-index coordinates', () => {
  expect(centreOfMass(image(3, 1, (x) => (x === 2 ? 1 : 0)))).toEqual({ x: 2, y: 0 });
  expect(centreOfMass(image(4, 4, () => 1))).toEqual({ x: 1.5, y: 1.5 });
  expect(centreOfMass(image(2, 1, (x) => (x === 0 ? 3 : 1)))).toEqual({ x: 0.25, y: 0 });
  expect(centreOfMass(blankImage(2, 2))).toBeNull();
});

test.each([
  ['a solid 20×20 square', image(20, 20, () => 1)],
  ['a thin 3×20 bar', image(3, 20, () => 1)],
  ['a 20×20 "L", heavy at the bottom left', image(20, 20, (x, y) => (y >= 17 || x < 2 ? 1 : 0))],
  ['an odd 15×19 blob with grey edges', image(15, 19, (x, y) => (x === 0 || y === 0 ? 0.3 : 1))],
])('the centre of mass of %s lands within half a pixel of (14, 14), ink intact', (_, fitted) => {
  const frame = centreInFrame(fitted);
  expect([frame.width, frame.height]).toEqual([FRAME, FRAME]);
  // Measured with this suite's own massCentre: centreInFrame moves the image by centreOfMass's answer.
  const com = massCentre(frame.data) as { x: number; y: number };
  expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(0.5);
  expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(0.5);
  expect(frame.data.reduce((a, b) => a + b, 0)).toBeCloseTo(fitted.data.reduce((a, b) => a + b, 0), 3);
  const box = inkBounds(frame);
  expect(box !== null && box.x1 - box.x0 === fitted.width && box.y1 - box.y0 === fitted.height).toBe(true);
});

test('a lopsided shape is shifted as far as the frame allows, never cut', () => {
  // All the mass in the last column: centring it would push the rest out of the frame.
  const lopsided = image(20, 20, (x) => (x === 19 ? 1 : x === 0 ? 0.01 : 0));
  const frame = centreInFrame(lopsided);
  const box = inkBounds(frame);
  expect(box?.x0).toBe(0);
  expect(box?.x1).toBe(20);
  expect(massCentre(frame.data)?.x).toBeGreaterThan(18.5);
});

test('an empty image gives an empty frame; an image larger than the frame is refused', () => {
  expect(Math.max(...centreInFrame(blankImage(20, 20)).data)).toBe(0);
  expect(() => centreInFrame(blankImage(29, 10))).toThrow(RangeError);
});
