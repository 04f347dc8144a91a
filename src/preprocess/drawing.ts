// What the page sends: the pen strokes of a drawing, not a bitmap. Small, resolution independent, lets
// the server split a number into digits by strokes, and replays exactly. validateDrawing is the one
// gate between untrusted JSON and the pure functions of this directory.
import { isJsonObject } from '../protocol/json-object.ts';

/** Canvas pixels, y pointing down. */
export interface Point {
  readonly x: number;
  readonly y: number;
}
/** One pen-down..pen-up trace. */
export type Stroke = readonly Point[];
export interface Drawing {
  readonly width: number;
  readonly height: number;
  readonly strokes: readonly Stroke[];
  /** The pen's width on the canvas, in canvas pixels, when the page knows it. */
  readonly lineWidth?: number;
}

// Far above what a person draws in one go (a six-digit number is ~20 strokes and ~1,500 points at 60 Hz),
// low enough that segmentation's pairwise stroke distances stay cheap.
export const DRAWING_LIMITS: { maxStrokes: number; maxPoints: number; maxSide: number } = Object.freeze({
  maxStrokes: 64,
  maxPoints: 8192,
  maxSide: 4096,
});

/** A rejected drawing. The message names the field at fault, never the value sent. */
export class DrawingError extends Error {
  override readonly name = 'DrawingError';
}

// Pointer capture reports positions past the canvas edge while the pen is dragged outside; those are kept.
// Anything farther than one canvas side beyond the largest canvas is not a drawing.
const COORDINATE_BOUND = 2 * DRAWING_LIMITS.maxSide;

function side(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DrawingError(`${name} must be a finite number`);
  if (value <= 0 || value > DRAWING_LIMITS.maxSide) throw new DrawingError(`${name} must be in (0, ${DRAWING_LIMITS.maxSide}]`);
  return value;
}

function coordinate(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new DrawingError(`${name} must be a finite number`);
  if (Math.abs(value) > COORDINATE_BOUND) throw new DrawingError(`${name} is too far outside the canvas`);
  return value;
}

/**
 * Checks untrusted input and returns a fresh Drawing holding only the known fields, so nothing the
 * caller sent beyond them (extra keys, prototypes, getters) travels further. Throws DrawingError.
 */
export function validateDrawing(input: unknown): Drawing {
  if (!isJsonObject(input)) throw new DrawingError('drawing must be an object');
  const width = side(input.width, 'width');
  const height = side(input.height, 'height');
  const lineWidth = input.lineWidth === undefined ? undefined : side(input.lineWidth, 'lineWidth');
  const rawStrokes = input.strokes;
  if (!Array.isArray(rawStrokes)) throw new DrawingError('strokes must be an array');
  if (rawStrokes.length === 0) throw new DrawingError('drawing has no strokes');
  if (rawStrokes.length > DRAWING_LIMITS.maxStrokes) throw new DrawingError(`more than ${DRAWING_LIMITS.maxStrokes} strokes`);
  let total = 0;
  const strokes: Stroke[] = [];
  for (let s = 0; s < rawStrokes.length; s++) {
    const rawStroke: unknown = rawStrokes[s];
    if (!Array.isArray(rawStroke)) throw new DrawingError(`strokes[${s}] must be an array of points`);
    if (rawStroke.length === 0) throw new DrawingError(`strokes[${s}] has no points`);
    total += rawStroke.length;
    // Checked before the points are read, so an oversized body costs nothing more to refuse.
    if (total > DRAWING_LIMITS.maxPoints) throw new DrawingError(`more than ${DRAWING_LIMITS.maxPoints} points`);
    const stroke: Point[] = [];
    for (let p = 0; p < rawStroke.length; p++) {
      const rawPoint: unknown = rawStroke[p];
      if (!isJsonObject(rawPoint)) throw new DrawingError(`strokes[${s}][${p}] must be an object with x and y`);
      stroke.push({ x: coordinate(rawPoint.x, `strokes[${s}][${p}].x`), y: coordinate(rawPoint.y, `strokes[${s}][${p}].y`) });
    }
    strokes.push(stroke);
  }
  return lineWidth === undefined ? { width, height, strokes } : { width, height, strokes, lineWidth };
}

/** The smallest box holding every point (no pen width), or null for a drawing without points. */
export function strokeBounds(strokes: readonly Stroke[]): { minX: number; minY: number; maxX: number; maxY: number } | null {
  let minX = Infinity;
  let minY = Infinity;
  let maxX = -Infinity;
  let maxY = -Infinity;
  for (const stroke of strokes) {
    for (const { x, y } of stroke) {
      if (x < minX) minX = x;
      if (x > maxX) maxX = x;
      if (y < minY) minY = y;
      if (y > maxY) maxY = y;
    }
  }
  return minX === Infinity ? null : { minX, minY, maxX, maxY };
}
