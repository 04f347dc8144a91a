// A drawing as two typed arrays, to hand to a worker thread by transfer: structured-cloning 8,192 point
// objects costs the sending thread about as much as drawing a small digit.
import type { Drawing, Point } from './drawing.ts';

export interface PackedDrawing {
  readonly width: number;
  readonly height: number;
  readonly lineWidth?: number;
  /** x0, y0, x1, y1, … over all strokes in order. */
  readonly coordinates: Float64Array;
  /** Points per stroke. */
  readonly strokeLengths: Uint32Array;
}

export function packDrawing(drawing: Drawing): PackedDrawing {
  const points = drawing.strokes.reduce((sum, stroke) => sum + stroke.length, 0);
  const coordinates = new Float64Array(points * 2);
  let at = 0;
  for (const stroke of drawing.strokes) {
    for (const { x, y } of stroke) {
      coordinates[at++] = x;
      coordinates[at++] = y;
    }
  }
  const strokeLengths = Uint32Array.from(drawing.strokes, (stroke) => stroke.length);
  const { width, height, lineWidth } = drawing;
  return lineWidth === undefined ? { width, height, coordinates, strokeLengths } : { width, height, lineWidth, coordinates, strokeLengths };
}

export function unpackDrawing(packed: PackedDrawing): Drawing {
  const strokes: Point[][] = [];
  let at = 0;
  for (const length of packed.strokeLengths) {
    const stroke: Point[] = [];
    for (let i = 0; i < length; i++, at += 2) stroke.push({ x: packed.coordinates[at] as number, y: packed.coordinates[at + 1] as number });
    strokes.push(stroke);
  }
  const { width, height, lineWidth } = packed;
  return lineWidth === undefined ? { width, height, strokes } : { width, height, lineWidth, strokes };
}
