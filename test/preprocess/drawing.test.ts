// validateDrawing: the gate between untrusted JSON and the preprocessing.
import { describe, expect, test } from 'bun:test';
import { DRAWING_LIMITS, DrawingError, strokeBounds, validateDrawing } from '../../src/preprocess/drawing.ts';

const line = [
  { x: 10, y: 10 },
  { x: 20, y: 30 },
];
const valid = { width: 280, height: 280, strokes: [line] };

function rejection(input: unknown): string {
  try {
    validateDrawing(input);
  } catch (error) {
    expect(error).toBeInstanceOf(DrawingError);
    return (error as DrawingError).message;
  }
  throw new Error('validateDrawing accepted the input');
}

describe('validateDrawing', () => {
  test('accepts a drawing and returns a copy with only the known fields', () => {
    const input = { ...valid, lineWidth: 12, extra: 'x', strokes: [[{ x: 1, y: 2, pressure: 0.5 }], line] };
    const drawing = validateDrawing(input);
    expect(drawing).toEqual({ width: 280, height: 280, lineWidth: 12, strokes: [[{ x: 1, y: 2 }], line] });
    expect(drawing.strokes[1]).not.toBe(line);
    expect(validateDrawing(valid)).not.toHaveProperty('lineWidth');
  });

  test('accepts a one-point stroke (a dot) and points a little outside the canvas (pointer capture)', () => {
    expect(validateDrawing({ ...valid, strokes: [[{ x: -5, y: 290 }]] }).strokes).toEqual([[{ x: -5, y: 290 }]]);
  });

  test.each([
    ['null', null, 'drawing must be an object'],
    ['an array', [valid], 'drawing must be an object'],
    ['a string', 'drawing', 'drawing must be an object'],
    ['missing width', { height: 1, strokes: [line] }, 'width must be a finite number'],
    ['string height', { ...valid, height: '280' }, 'height must be a finite number'],
    ['zero width', { ...valid, width: 0 }, 'width must be in'],
    ['huge height', { ...valid, height: DRAWING_LIMITS.maxSide + 1 }, 'height must be in'],
    ['negative lineWidth', { ...valid, lineWidth: -1 }, 'lineWidth must be in'],
    ['strokes not an array', { ...valid, strokes: {} }, 'strokes must be an array'],
    ['no strokes', { ...valid, strokes: [] }, 'drawing has no strokes'],
    ['an empty stroke', { ...valid, strokes: [line, []] }, 'strokes[1] has no points'],
    ['a stroke that is not an array', { ...valid, strokes: [{ x: 1, y: 1 }] }, 'strokes[0] must be an array of points'],
    ['a point as a tuple', { ...valid, strokes: [[[1, 2]]] }, 'strokes[0][0] must be an object with x and y'],
    ['NaN', { ...valid, strokes: [[{ x: Number.NaN, y: 1 }]] }, 'strokes[0][0].x must be a finite number'],
    ['Infinity', { ...valid, strokes: [line, [{ x: 1, y: Infinity }]] }, 'strokes[1][0].y must be a finite number'],
    ['a missing y', { ...valid, strokes: [[{ x: 1 }]] }, 'strokes[0][0].y must be a finite number'],
    ['a coordinate far off the canvas', { ...valid, strokes: [[{ x: 1e9, y: 1 }]] }, 'strokes[0][0].x is too far outside the canvas'],
  ])('rejects %s', (_, input, message) => {
    expect(rejection(input)).toStartWith(message);
  });

  test('rejects more strokes or points than the limits', () => {
    const manyStrokes = Array.from({ length: DRAWING_LIMITS.maxStrokes + 1 }, () => line);
    expect(rejection({ ...valid, strokes: manyStrokes })).toBe(`more than ${DRAWING_LIMITS.maxStrokes} strokes`);
    const half = Array.from({ length: DRAWING_LIMITS.maxPoints / 2 }, (_, i) => ({ x: i % 100, y: 1 }));
    expect(validateDrawing({ ...valid, strokes: [half, half] }).strokes).toHaveLength(2);
    expect(rejection({ ...valid, strokes: [half, half, [{ x: 1, y: 1 }]] })).toBe(`more than ${DRAWING_LIMITS.maxPoints} points`);
  });

  test('messages never echo what was sent', () => {
    const marker = '<script>alert(1)</script>';
    for (const input of [marker, { ...valid, width: marker }, { ...valid, strokes: [[{ x: marker, y: 1 }]] }, { [marker]: 1 }]) {
      expect(rejection(input)).not.toContain('script');
    }
  });
});

test('strokeBounds spans every point and is null without points', () => {
  expect(strokeBounds([line, [{ x: -3, y: 50 }]])).toEqual({ minX: -3, minY: 10, maxX: 20, maxY: 50 });
  expect(strokeBounds([])).toBeNull();
});
