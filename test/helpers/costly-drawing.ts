// The costliest drawing the API admits, as a hostile client would send it: every stroke and point the
// limits allow, the largest canvas and pen, each stroke zig-zagging over the whole width so that every
// segment is as long as the digit box it is drawn into.
import { DRAWING_LIMITS, type Stroke } from '../../src/preprocess/drawing.ts';

export function costliestDrawing(): { width: number; height: number; lineWidth: number; strokes: Stroke[] } {
  const { maxStrokes, maxPoints, maxSide } = DRAWING_LIMITS;
  const perStroke = Math.floor(maxPoints / maxStrokes);
  const strokes: Stroke[] = Array.from({ length: maxStrokes }, (_, s) =>
    Array.from({ length: perStroke }, (_, i) => ({ x: (i % 2) * (maxSide - 1), y: (s * (maxSide / maxStrokes) + i / 2) % maxSide })),
  );
  return { width: maxSide, height: maxSide, lineWidth: 64, strokes };
}
