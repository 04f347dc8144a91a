// src/preprocess/ turns a drawing into what the model reads: validation (drawing.ts), cutting a number into
// digits (segment.ts), rasterising, cropping, fitting and centring (this file). Pure, and it imports nothing
// from outside the folder.
//
// A drawing → the 28×28 image the model was trained on, made the way MNIST's digits were made:
// ink cropped, fitted into a 20×20 box keeping its aspect ratio, centred by centre of mass in 28×28.
import { strokeBounds, type Drawing, type Stroke } from './drawing.ts';
import { centreInFrame } from './centre.ts';
import { cropToInk } from './crop.ts';
import { fitToBox } from './fit.ts';
import { rasteriseStrokes } from './rasterise.ts';

/** MNIST's digits fill a 20×20 box inside the 28×28 frame. */
export const DIGIT_BOX = 20;
/**
 * The pen's diameter as a fraction of the digit's longer side (ink included): 2.2 px in the 20 px box,
 * as MNIST's strokes (~2–3 px). The pen the user chose is ignored on purpose, so thin and thick drawings
 * end alike. Measured on pendigits (bench/pendigits.ts): 0.09–0.12 read equally well (94.5–94.7 %),
 * 0.06 and 0.16 worse (93.4 %, 93.1 %); 0.11 leaves ~92 px of ink per digit, MNIST's average is 104.
 */
export const PEN_FRACTION = 0.11;
/**
 * The strokes are drawn into a box SUPERSAMPLE times larger than 20 px, then averaged down: smooth,
 * evenly anti-aliased lines (1× reads pendigits 0.2 points worse; 8× is no better than 4×).
 */
export const SUPERSAMPLE = 4;

/** 784 values in 0..1, row-major, white digit on black: MNIST's convention. No ink gives all zeros. */
export function drawingToPixels(drawing: Drawing): Float32Array {
  return renderMnistStyle(drawing, PEN_FRACTION, SUPERSAMPLE);
}

/** drawingToPixels with its pen and supersampling as parameters, for measuring other choices. */
export function renderMnistStyle(drawing: Drawing, penFraction: number, supersample: number): Float32Array {
  const bounds = strokeBounds(drawing.strokes);
  if (bounds === null) return new Float32Array(28 * 28);
  const box = DIGIT_BOX * supersample;
  const penRadius = (penFraction * box) / 2;
  const longer = Math.max(bounds.maxX - bounds.minX, bounds.maxY - bounds.minY);
  // The trace's longer side plus the pen's two half-widths spans the box; a lone dot just becomes a dot.
  const scale = longer > 0 ? (box - 2 * penRadius) / longer : 1;
  const margin = penRadius + 1;
  const strokes: Stroke[] = drawing.strokes.map((stroke) =>
    stroke.map((p) => ({ x: (p.x - bounds.minX) * scale + margin, y: (p.y - bounds.minY) * scale + margin })),
  );
  const width = Math.ceil((bounds.maxX - bounds.minX) * scale + 2 * margin);
  const height = Math.ceil((bounds.maxY - bounds.minY) * scale + 2 * margin);
  const ink = rasteriseStrokes(strokes, width, height, penRadius);
  return centreInFrame(fitToBox(cropToInk(ink), DIGIT_BOX)).data;
}
