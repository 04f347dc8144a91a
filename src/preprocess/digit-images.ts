// A drawn number → the 28×28 images of its digits, left to right, and a bound on what making them costs.
// The bound lets the gateway make cheap drawings at once, on its event loop, and send costly ones to a
// worker thread (src/http/drawing-pool.ts), so that one client's worst drawing cannot hold up others.
import { strokeBounds, type Drawing } from './drawing.ts';
import { DIGIT_BOX, drawingToPixels, PEN_FRACTION, SUPERSAMPLE } from './mnist-style.ts';
import { segmentDrawing } from './segment.ts';

const PIXELS = 28 * 28;

export interface DigitImages {
  /** count × 784 values in 0..1, digit by digit. */
  readonly pixels: Float32Array;
  readonly count: number;
}

export function drawingToDigitImages(drawing: Drawing): DigitImages {
  const digits = segmentDrawing(drawing);
  const pixels = new Float32Array(digits.length * PIXELS);
  digits.forEach((digit, i) => pixels.set(drawingToPixels(digit), i * PIXELS));
  return { pixels, count: digits.length };
}

/** Drawings estimated to take longer than this (µs) are made off the event loop. */
export const CHEAP_DRAWING_US = 1000;
/** Measured on the API's costliest drawing (64 zig-zags over the whole width, 8,192 points): ~6 ns per pixel the rasteriser visits… */
const NS_PER_PIXEL_VISIT = 6;
/** …and ~120 µs per digit for cropping, fitting and centring it (pendigits samples). */
const US_PER_DIGIT = 120;

/**
 * What drawingToDigitImages should take for `drawing`, in µs, estimated in O(points); pendigits numbers
 * take 0.6–1.3× the estimate, the costliest drawing 0.8×. A segment of length ℓ drawn at scale s visits about (ℓ·s + 2r + 1) × (2r + 1) pixels, r the pen's
 * reach. Each digit is scaled so that its longer side fills the box, and a digit is at least as large as
 * each of its strokes, so box / (the stroke's longer side) bounds the scale of every segment of that
 * stroke, and the visits it counts are an upper bound. A drawing has at most as many digits as strokes.
 */
export function drawingCostUs(drawing: Drawing): number {
  const box = DIGIT_BOX * SUPERSAMPLE;
  const pen = 2 * ((PEN_FRACTION * box) / 2 + 0.5) + 1;
  let visits = 0;
  for (const stroke of drawing.strokes) {
    const bounds = strokeBounds([stroke]);
    if (bounds === null) continue;
    const longer = Math.max(bounds.maxX - bounds.minX, bounds.maxY - bounds.minY);
    let length = 0;
    for (let i = 1; i < stroke.length; i++) {
      const a = stroke[i - 1] as { x: number; y: number };
      const b = stroke[i] as { x: number; y: number };
      length += Math.hypot(b.x - a.x, b.y - a.y);
    }
    const segments = Math.max(1, stroke.length - 1);
    visits += (longer > 0 ? (length * box) / longer : 0) * pen + segments * pen * pen;
  }
  return (visits * NS_PER_PIXEL_VISIT) / 1000 + drawing.strokes.length * US_PER_DIGIT;
}
