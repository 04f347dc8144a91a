// Where recorded pen strokes land on the drawing pad: scaled as one piece (aspect kept) into the pad's
// box minus margins, centred. Pure, so the arithmetic is tested without a browser.
import type { Point, Stroke } from '../../src/preprocess/drawing.ts';
import { strokeBounds } from '../../src/preprocess/drawing.ts';

export interface Size {
  readonly width: number;
  readonly height: number;
}

export interface FitOptions {
  /** Left empty on each side, as a fraction of the pad's shorter side. A person rarely writes at the edge. */
  readonly margin?: number;
  /** The ink's height at most, as a fraction of the pad's height: one digit on a wide pad stays handwriting-sized. */
  readonly maxHeightFraction?: number;
}

/** `strokes` (any coordinates, y down) moved and scaled uniformly to sit centred inside `pad`. */
export function fitStrokes(strokes: readonly Stroke[], pad: Size, options: FitOptions = {}): Stroke[] {
  const bounds = strokeBounds(strokes);
  if (bounds === null) return [];
  const margin = (options.margin ?? 0.12) * Math.min(pad.width, pad.height);
  const inkWidth = Math.max(bounds.maxX - bounds.minX, 1e-6);
  const inkHeight = Math.max(bounds.maxY - bounds.minY, 1e-6);
  const room = { width: pad.width - 2 * margin, height: Math.min(pad.height - 2 * margin, pad.height * (options.maxHeightFraction ?? 1)) };
  if (room.width <= 0 || room.height <= 0) throw new Error(`pad ${pad.width}×${pad.height} leaves no room inside its margins`);
  const scale = Math.min(room.width / inkWidth, room.height / inkHeight);
  const left = (pad.width - inkWidth * scale) / 2;
  const top = (pad.height - inkHeight * scale) / 2;
  return strokes.map((stroke) =>
    stroke.map((p): Point => ({ x: left + (p.x - bounds.minX) * scale, y: top + (p.y - bounds.minY) * scale })),
  );
}

/**
 * Adds points so no two consecutive ones are farther apart than `maxStep`: the tablet sampled every
 * 100 ms, a browser reports pointer moves about every 16 ms, so replayed strokes should be as dense.
 */
export function densify(stroke: Stroke, maxStep: number): Point[] {
  const out: Point[] = [];
  stroke.forEach((point, i) => {
    const previous = stroke[i - 1];
    if (previous !== undefined) {
      const steps = Math.ceil(Math.hypot(point.x - previous.x, point.y - previous.y) / maxStep);
      for (let s = 1; s < steps; s++) {
        out.push({ x: previous.x + ((point.x - previous.x) * s) / steps, y: previous.y + ((point.y - previous.y) * s) / steps });
      }
    }
    out.push(point);
  });
  return out;
}
