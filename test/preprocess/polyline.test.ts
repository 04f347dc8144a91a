// Trace distances used by segmentation.
import { expect, test } from 'bun:test';
import type { Stroke } from '../../src/preprocess/drawing.ts';
import { Trace, traceDistance, tracesWithin } from '../../src/preprocess/polyline.ts';

const trace = (points: [number, number][]) => new Trace(points.map(([x, y]) => ({ x, y })));
const ring = (radius: number): Trace =>
  new Trace(Array.from({ length: 129 }, (_, k) => ({ x: 500 + radius * Math.cos((k / 128) * 2 * Math.PI), y: 500 + radius * Math.sin((k / 128) * 2 * Math.PI) })) as Stroke);

test('distances between crossing, parallel and end-to-end segments, and from a dot', () => {
  expect(traceDistance(trace([[0, 0], [10, 10]]), trace([[0, 10], [10, 0]]))).toBe(0);
  expect(traceDistance(trace([[0, 0], [10, 0]]), trace([[0, 3], [10, 3]]))).toBeCloseTo(3, 9);
  expect(traceDistance(trace([[0, 0], [10, 0]]), trace([[13, 4], [20, 4]]))).toBeCloseTo(5, 9);
  expect(traceDistance(trace([[5, 7]]), trace([[0, 0], [10, 0], [10, 10]]))).toBeCloseTo(5, 9);
  expect(traceDistance(trace([[5, 7]]), trace([[5, 7]]))).toBe(0);
});

test('tracesWithin agrees with the distance, including deep inside long strokes', () => {
  const a = ring(100);
  for (const [radius, limit] of [[104, 5], [106, 5], [150, 49], [150, 51]] as const) {
    const b = ring(radius);
    expect(tracesWithin(a, b, limit)).toBe(traceDistance(a, b) <= limit);
    expect(tracesWithin(b, a, limit)).toBe(tracesWithin(a, b, limit));
  }
  const zigzag = trace(Array.from({ length: 200 }, (_, i): [number, number] => [i % 2 === 0 ? 0 : 1000, i * 5]));
  expect(tracesWithin(zigzag, trace([[500, 502], [500, 503]]), 1)).toBe(true);
  expect(tracesWithin(zigzag, trace([[500, 2000], [500, 2100]]), 1)).toBe(false);
});
