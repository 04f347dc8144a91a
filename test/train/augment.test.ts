import { describe, expect, test } from 'bun:test';
import { adjustStroke, augmentImages, AUGMENT_RANGES, randomWarp, SIDE, warp } from '../../src/train/augment.ts';
import { loadSplit } from '../../src/train/mnist.ts';
import { seededRandom } from '../../src/train/random.ts';
import { MNIST_DIR } from '../helpers/data.ts';

const PIXELS = SIDE * SIDE;
const identity = { dx: 0, dy: 0, angle: 0, scale: 1 };
const ink = (image: Float32Array) => image.reduce((sum, v) => sum + v, 0);
function centreOfMass(image: Float32Array): { x: number; y: number } {
  let x = 0;
  let y = 0;
  for (let i = 0; i < PIXELS; i++) {
    x += (i % SIDE) * image[i]!;
    y += Math.floor(i / SIDE) * image[i]!;
  }
  return { x: x / ink(image), y: y / ink(image) };
}
/** Mean distance of the ink from its centre: how large the digit is drawn. */
function spread(image: Float32Array): number {
  const c = centreOfMass(image);
  let sum = 0;
  for (let i = 0; i < PIXELS; i++) sum += Math.hypot((i % SIDE) - c.x, Math.floor(i / SIDE) - c.y) * image[i]!;
  return sum / ink(image);
}

const test10 = loadSplit(MNIST_DIR, 'test');
const digit = (k: number) => test10.images.slice(k * PIXELS, (k + 1) * PIXELS);

describe('warp', () => {
  test('the identity copies the image exactly', () => {
    const out = new Float32Array(PIXELS);
    warp(digit(0), out, identity);
    expect(out).toEqual(digit(0));
  });

  test('a whole-pixel shift moves every pixel by exactly that much and the mass with it', () => {
    // Shrunk first, so no ink falls off the frame when it moves.
    const src = new Float32Array(PIXELS);
    warp(digit(1), src, { ...identity, scale: 0.7 });
    const out = new Float32Array(PIXELS);
    warp(src, out, { ...identity, dx: 2, dy: -1 });
    for (let y = 0; y < SIDE; y++) {
      for (let x = 0; x < SIDE; x++) {
        const from = x - 2 >= 0 && y + 1 < SIDE ? src[(y + 1) * SIDE + x - 2]! : 0;
        expect(out[y * SIDE + x]).toBe(from);
      }
    }
    const before = centreOfMass(src);
    const after = centreOfMass(out);
    expect(after.x - before.x).toBeCloseTo(2, 6);
    expect(after.y - before.y).toBeCloseTo(-1, 6);
  });

  test('a half-pixel shift moves the centre of mass by half a pixel', () => {
    const out = new Float32Array(PIXELS);
    warp(digit(2), out, { ...identity, dx: 0.5, dy: 1.5 });
    const moved = centreOfMass(out);
    const before = centreOfMass(digit(2));
    expect(moved.x - before.x).toBeCloseTo(0.5, 2);
    expect(moved.y - before.y).toBeCloseTo(1.5, 2);
  });

  test('a quarter turn turns a pixel about the centre, clockwise on screen', () => {
    const src = new Float32Array(PIXELS);
    src[5 * SIDE + 20] = 1; // x 20, y 5: upper right
    const out = new Float32Array(PIXELS);
    warp(src, out, { ...identity, angle: Math.PI / 2 });
    // Clockwise with y down: (x, y) → (27 - y, x) about centre 13.5.
    expect(out[20 * SIDE + 22]).toBeCloseTo(1, 6);
    expect(ink(out)).toBeCloseTo(1, 6);
  });

  test('rotating by 12° keeps the ink within 3 % and the centre within half a pixel', () => {
    for (const k of [0, 1, 2, 3]) {
      const out = new Float32Array(PIXELS);
      warp(digit(k), out, { ...identity, angle: (12 * Math.PI) / 180 });
      expect(Math.abs(ink(out) / ink(digit(k)) - 1)).toBeLessThan(0.03);
      expect(out).not.toEqual(digit(k));
      const c0 = centreOfMass(digit(k));
      const c1 = centreOfMass(out);
      // The digit's own centre turns about the frame centre, so compare against where it should land.
      const a = (12 * Math.PI) / 180;
      const ex = Math.cos(a) * (c0.x - 13.5) - Math.sin(a) * (c0.y - 13.5) + 13.5;
      const ey = Math.sin(a) * (c0.x - 13.5) + Math.cos(a) * (c0.y - 13.5) + 13.5;
      expect(Math.hypot(c1.x - ex, c1.y - ey)).toBeLessThan(0.5);
    }
  });

  test('scaling enlarges or shrinks the digit by that factor and its ink by the area', () => {
    const src = digit(3);
    for (const scale of [0.85, 1.15]) {
      const out = new Float32Array(PIXELS);
      warp(src, out, { ...identity, scale });
      expect(spread(out) / spread(src)).toBeCloseTo(scale, 1);
      expect(ink(out) / ink(src)).toBeCloseTo(scale * scale, 1);
    }
  });
});

describe('adjustStroke', () => {
  test('thickening adds ink, thinning removes it, zero changes nothing, values stay in 0..1', () => {
    const src = digit(4);
    const thick = new Float32Array(PIXELS);
    const thin = new Float32Array(PIXELS);
    const same = new Float32Array(PIXELS);
    adjustStroke(src, thick, 0.5);
    adjustStroke(src, thin, -0.5);
    adjustStroke(src, same, 0);
    expect(same).toEqual(src);
    expect(ink(thick)).toBeGreaterThan(ink(src) * 1.2);
    expect(ink(thin)).toBeLessThan(ink(src) * 0.8);
    for (const image of [thick, thin]) for (const v of image) expect(v >= 0 && v <= 1).toBe(true);
    // Light: the stroke is changed, not erased or doubled.
    expect(ink(thin)).toBeGreaterThan(ink(src) * 0.4);
    expect(ink(thick)).toBeLessThan(ink(src) * 2);
  });
});

describe('augmentImages', () => {
  const batch = () => test10.images.slice(0, 64 * PIXELS);

  test('is deterministic for a seed, differs between seeds and between images', () => {
    const a = batch();
    const b = batch();
    const c = batch();
    augmentImages(a, 64, seededRandom(7));
    augmentImages(b, 64, seededRandom(7));
    augmentImages(c, 64, seededRandom(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a).not.toEqual(batch());
  });

  test('keeps every digit inside the frame and roughly its ink', () => {
    const images = batch();
    const original = batch();
    augmentImages(images, 64, seededRandom(1));
    for (let n = 0; n < 64; n++) {
      const before = original.subarray(n * PIXELS, (n + 1) * PIXELS);
      const after = images.subarray(n * PIXELS, (n + 1) * PIXELS);
      const ratio = ink(after) / ink(before);
      // Scale (±15 % → 0.72..1.32 in area) times stroke (±50 % of a neighbour blend).
      expect(ratio).toBeGreaterThan(0.35);
      expect(ratio).toBeLessThan(2.6);
      const c0 = centreOfMass(before);
      const c1 = centreOfMass(after);
      // ±2 px shift plus a 12° turn of an off-centre digit about the frame centre.
      expect(Math.hypot(c1.x - c0.x, c1.y - c0.y)).toBeLessThan(2 * Math.SQRT2 + 1.5);
      for (const v of after) expect(v >= 0 && v <= 1).toBe(true);
    }
  });

  test('draws stay within the documented ranges', () => {
    const random = seededRandom(3);
    for (let i = 0; i < 1000; i++) {
      const w = randomWarp(random);
      expect(Math.abs(w.dx)).toBeLessThanOrEqual(AUGMENT_RANGES.shiftPx);
      expect(Math.abs(w.dy)).toBeLessThanOrEqual(AUGMENT_RANGES.shiftPx);
      expect(Math.abs(w.angle)).toBeLessThanOrEqual((AUGMENT_RANGES.rotateDeg * Math.PI) / 180);
      expect(w.scale).toBeGreaterThanOrEqual(AUGMENT_RANGES.scaleMin);
      expect(w.scale).toBeLessThanOrEqual(AUGMENT_RANGES.scaleMax);
      expect(Math.abs(w.stroke)).toBeLessThanOrEqual(AUGMENT_RANGES.stroke);
    }
  });
});

// The width and slant distortions added for pen-drawn digits (stretchX, shear).
describe('width and slant', () => {
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
});
