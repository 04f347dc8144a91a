// The arithmetic that places recorded strokes on the pad, checked without a browser.
import { expect, test } from 'bun:test';
import { strokeBounds } from '../../src/preprocess/drawing.ts';
import { densify, fitStrokes } from '../helpers/stroke-layout.ts';

const tall = [[{ x: 100, y: 100 }, { x: 150, y: 300 }], [{ x: 120, y: 200 }]];

test('a digit is scaled with its aspect kept, centred, inside the margins and the height cap', () => {
  const placed = fitStrokes(tall, { width: 800, height: 300 }, { margin: 0.1, maxHeightFraction: 0.7 });
  const b = strokeBounds(placed)!;
  expect(b.maxY - b.minY).toBeCloseTo(210, 6); // 70 % of 300
  expect((b.maxX - b.minX) / (b.maxY - b.minY)).toBeCloseTo(50 / 200, 6);
  expect((b.minX + b.maxX) / 2).toBeCloseTo(400, 6);
  expect((b.minY + b.maxY) / 2).toBeCloseTo(150, 6);
  // The lone point of the second stroke keeps its place relative to the first.
  expect(placed[1]![0]!.y).toBeCloseTo(150, 6);
});

test('a wide number is limited by the width minus margins', () => {
  const wide = [[{ x: 0, y: 0 }, { x: 1000, y: 100 }]];
  const b = strokeBounds(fitStrokes(wide, { width: 400, height: 300 }, { margin: 0.1 }))!;
  expect(b.minX).toBeCloseTo(30, 6);
  expect(b.maxX).toBeCloseTo(370, 6);
  expect(b.maxY - b.minY).toBeCloseTo(34, 6);
});

test('densify fills long gaps and keeps every original point', () => {
  const stroke = [{ x: 0, y: 0 }, { x: 10, y: 0 }, { x: 11, y: 0 }];
  const dense = densify(stroke, 3);
  expect(dense.map((p) => p.x)).toEqual([0, 2.5, 5, 7.5, 10, 11]);
  expect(densify([{ x: 1, y: 1 }], 3)).toEqual([{ x: 1, y: 1 }]);
});

test('margins that leave no room are refused', () => {
  expect(() => fitStrokes(tall, { width: 10, height: 10 }, { margin: 0.6 })).toThrow('no room');
});
