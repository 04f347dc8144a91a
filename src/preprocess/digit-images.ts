// A drawn number → the 28×28 images of its digits, left to right, with those of other ways to split it
// where it may be digits written into each other (split-alternatives.ts), and a bound on what making them
// costs.
// The bound lets the gateway make cheap drawings at once, on its event loop, and send costly ones to a
// worker thread (src/http/drawing-pool.ts), so that one client's worst drawing cannot hold up others.
import type { SplitAlternatives } from '../protocol/messages.ts';
import { strokeBounds, type Drawing, type Stroke } from './drawing.ts';
import { DIGIT_BOX, drawingToPixels, PEN_FRACTION, SUPERSAMPLE } from './mnist-style.ts';
import { pieceDrawing, segmentStrokes } from './segment.ts';
import { splitAlternatives } from './split-alternatives.ts';

const PIXELS = 28 * 28;

export interface DigitImages {
  /** count × 784 values in 0..1: the digits left to right, then the alternatives' images. */
  readonly pixels: Float32Array;
  readonly count: number;
  /** Where the drawing could be split another way: which images are the digits and what else to try. */
  readonly split?: SplitAlternatives;
}

export function drawingToDigitImages(drawing: Drawing): DigitImages {
  const segmentation = segmentStrokes(drawing);
  const strokeCosts = segmentation.strokes.map(strokeCostUs);
  const costUs = (members: readonly number[]) => members.reduce((sum, i) => sum + (strokeCosts[i] as number), 0);
  const digitsUs = strokeCosts.reduce((sum, cost) => sum + cost, 0);
  const alternatives = splitAlternatives(segmentation, costUs, ALTERNATIVES_SHARE * digitsUs);
  const pieces = [...segmentation.pieces, ...alternatives.flatMap((alternative) => alternative.pieces)];
  const pixels = new Float32Array(pieces.length * PIXELS);
  pieces.forEach((members, i) => pixels.set(drawingToPixels(pieceDrawing(drawing, segmentation.strokes, members)), i * PIXELS));
  if (alternatives.length === 0) return { pixels, count: pieces.length };
  let next = segmentation.pieces.length;
  const readings = alternatives.map(({ from, to, pieces: own }) => ({ from, to, images: own.map(() => next++) }));
  return { pixels, count: pieces.length, split: { primary: segmentation.pieces.length, alternatives: readings } };
}

/** Drawings estimated to take longer than this (µs) are made off the event loop. */
export const CHEAP_DRAWING_US = 1000;
/** The alternative splits of a drawing may cost this much of what its digits cost, at most. */
export const ALTERNATIVES_SHARE = 1;
/** Measured on the API's costliest drawing (64 zig-zags over the whole width, 8,192 points): ~6 ns per pixel the rasteriser visits… */
const NS_PER_PIXEL_VISIT = 6;
/** …and ~120 µs per digit for cropping, fitting and centring it (pendigits samples). */
const US_PER_DIGIT = 120;

/**
 * What drawingToDigitImages should take for `drawing`, in µs, estimated in O(points): its digits, and
 * alternative splits costing at most ALTERNATIVES_SHARE of that. Pendigits numbers drawn apart (no
 * alternatives) take 0.3–0.65× the estimate, the costliest drawing 0.4×.
 */
export function drawingCostUs(drawing: Drawing): number {
  return (1 + ALTERNATIVES_SHARE) * drawing.strokes.reduce((sum, stroke) => sum + strokeCostUs(stroke), 0);
}

/**
 * What drawing `stroke` in a digit costs, at most, in µs; a digit's cost is the sum of its strokes'. A
 * segment of length ℓ drawn at scale s visits about (ℓ·s + 2r + 1) × (2r + 1) pixels, r the pen's reach.
 * Each digit is scaled so that its longer side fills the box, and a digit is at least as large as each of
 * its strokes, so box / (the stroke's longer side) bounds the scale of every segment of that stroke, and
 * the visits it counts are an upper bound. A digit has at least one stroke, so one digit's fixed work
 * counted per stroke bounds it too.
 */
function strokeCostUs(stroke: Stroke): number {
  const box = DIGIT_BOX * SUPERSAMPLE;
  const pen = 2 * ((PEN_FRACTION * box) / 2 + 0.5) + 1;
  const bounds = strokeBounds([stroke]);
  if (bounds === null) return 0;
  const longer = Math.max(bounds.maxX - bounds.minX, bounds.maxY - bounds.minY);
  let length = 0;
  for (let i = 1; i < stroke.length; i++) {
    const a = stroke[i - 1] as { x: number; y: number };
    const b = stroke[i] as { x: number; y: number };
    length += Math.hypot(b.x - a.x, b.y - a.y);
  }
  const segments = Math.max(1, stroke.length - 1);
  const visits = (longer > 0 ? (length * box) / longer : 0) * pen + segments * pen * pen;
  return (visits * NS_PER_PIXEL_VISIT) / 1000 + US_PER_DIGIT;
}
