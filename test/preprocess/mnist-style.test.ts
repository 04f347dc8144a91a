// drawingToPixels end to end: a drawing in any size, any pen → MNIST's framing. The framing is measured
// with mnist-framing.ts, not with centre.ts and crop.ts, which drawingToPixels itself runs: a fault there
// would otherwise be measured by the same fault. Fixed expected images: fixtures.test.ts.
import { expect, test } from 'bun:test';
import type { Drawing, Stroke } from '../../src/preprocess/drawing.ts';
import { drawingToPixels } from '../../src/preprocess/mnist-style.ts';
import { inkExtent, massCentre } from './mnist-framing.ts';

function circle(cx: number, cy: number, rx: number, ry: number, points = 40): Stroke {
  return Array.from({ length: points + 1 }, (_, i) => ({ x: cx + rx * Math.cos((2 * Math.PI * i) / points), y: cy + ry * Math.sin((2 * Math.PI * i) / points) }));
}

const zero: Drawing = { width: 280, height: 280, strokes: [circle(140, 140, 60, 90)] };

test('784 values in 0..1, white ink on black, anti-aliased', () => {
  const pixels = drawingToPixels(zero);
  expect(pixels).toHaveLength(784);
  expect(Math.min(...pixels)).toBe(0);
  expect(Math.max(...pixels)).toBeCloseTo(1, 3);
  expect(pixels.filter((v) => v > 0.05 && v < 0.95).length).toBeGreaterThan(10);
  // The corners are background.
  expect(pixels[0]).toBe(0);
  expect(pixels[783]).toBe(0);
});

test('the ink fills a 20-pixel box on its longer side and its centre of mass sits at (14, 14)', () => {
  for (const drawing of [zero, { width: 500, height: 300, strokes: [circle(100, 150, 90, 40)] }]) {
    const pixels = drawingToPixels(drawing);
    const box = inkExtent(pixels);
    expect(Math.max(box.width, box.height)).toBe(20);
    const com = massCentre(pixels) as { x: number; y: number };
    expect(Math.abs(com.x - 14)).toBeLessThanOrEqual(0.5);
    expect(Math.abs(com.y - 14)).toBeLessThanOrEqual(0.5);
  }
});

test('the aspect ratio is kept: an ellipse 3:2 stays 3:2, a "1" stays thin', () => {
  const wide = inkExtent(drawingToPixels({ width: 500, height: 500, strokes: [circle(250, 250, 150, 100)] }));
  expect(wide.width).toBe(20);
  // The trace is 17.8 × 11.9 px, the pen adds 2.2 px to both: 14.1 px, the last row partly inked.
  expect(wide.height).toBe(15);
  const one = inkExtent(drawingToPixels({ width: 280, height: 280, strokes: [[{ x: 140, y: 40 }, { x: 140, y: 240 }]] }));
  expect(one.height).toBe(20);
  expect(one.width).toBeLessThanOrEqual(4);
});

test('strokes come out 2–3 px thick whatever the pen and the size of the drawing', () => {
  const bar = drawingToPixels({ width: 280, height: 280, strokes: [[{ x: 40, y: 100 }, { x: 240, y: 100 }]] });
  const thickness = Array.from({ length: 28 }, (_, y) => bar[y * 28 + 14] as number).reduce((a, b) => a + b, 0);
  expect(thickness).toBeGreaterThanOrEqual(2);
  expect(thickness).toBeLessThanOrEqual(3);
  // The same zero drawn 5× larger, moved, with a thick pen: the same image.
  const big: Drawing = { width: 2000, height: 2000, lineWidth: 60, strokes: [circle(900, 1000, 300, 450)] };
  const small = drawingToPixels(zero);
  const large = drawingToPixels(big);
  let worst = 0;
  for (let i = 0; i < 784; i++) worst = Math.max(worst, Math.abs((small[i] as number) - (large[i] as number)));
  expect(worst).toBeLessThan(1e-3);
});

test('a drawing without points gives an empty image; a single dot gives a centred blob', () => {
  expect(Math.max(...drawingToPixels({ width: 10, height: 10, strokes: [] }))).toBe(0);
  const com = massCentre(drawingToPixels({ width: 10, height: 10, strokes: [[{ x: 3, y: 4 }]] })) as { x: number; y: number };
  expect([Math.round(com.x), Math.round(com.y)]).toEqual([14, 14]);
});
