// Step 4 of drawingToPixels: place the fitted ink in the 28×28 frame with its centre of mass at the
// frame's centre, as MNIST was made (LeCun et al.: 20×20 box, then centred by centre of mass in 28×28).
import { blankImage, type GreyImage } from './image.ts';

export const FRAME = 28;
/**
 * Where the centre of mass goes, in pixel-index coordinates (pixel i at i). The MNIST test set's mean
 * centre of mass measured this way is (14.01, 13.99).
 */
export const FRAME_CENTRE = 14;

/** Centre of mass in pixel-index coordinates; null for an image without ink. */
export function centreOfMass(image: GreyImage): { x: number; y: number } | null {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      const v = image.data[y * image.width + x] as number;
      mass += v;
      sx += v * x;
      sy += v * y;
    }
  }
  return mass > 0 ? { x: sx / mass, y: sy / mass } : null;
}

/**
 * Copies `image` (at most FRAME on each side) into a FRAME×FRAME frame, shifted by whole pixels so its
 * centre of mass lands within half a pixel of (FRAME_CENTRE, FRAME_CENTRE). Whole pixels, like MNIST: a
 * sub-pixel shift would blur the strokes. The shift is clamped so no ink leaves the frame; only a
 * very lopsided shape (all its mass at one end) can then miss the centre.
 */
export function centreInFrame(image: GreyImage): GreyImage {
  if (image.width > FRAME || image.height > FRAME) throw new RangeError(`image is ${image.width}×${image.height}, larger than the ${FRAME}×${FRAME} frame`);
  const frame = blankImage(FRAME, FRAME);
  const com = centreOfMass(image);
  if (com === null) return frame;
  const left = clamp(Math.round(FRAME_CENTRE - com.x), 0, FRAME - image.width);
  const top = clamp(Math.round(FRAME_CENTRE - com.y), 0, FRAME - image.height);
  for (let y = 0; y < image.height; y++) {
    const row = image.data.subarray(y * image.width, (y + 1) * image.width);
    frame.data.set(row, (top + y) * FRAME + left);
  }
  return frame;
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), Math.max(low, high));
}
