// Step 2 of drawingToPixels: keep only the ink's bounding box.
import { blankImage, type GreyImage } from './image.ts';

/** Half-open pixel box: columns x0..x1-1, rows y0..y1-1. */
export interface PixelBox {
  readonly x0: number;
  readonly y0: number;
  readonly x1: number;
  readonly y1: number;
}

/** The smallest box holding every pixel with ink above `threshold`, or null when there is none. */
export function inkBounds(image: GreyImage, threshold = 0): PixelBox | null {
  let x0 = image.width;
  let y0 = image.height;
  let x1 = 0;
  let y1 = 0;
  for (let y = 0; y < image.height; y++) {
    for (let x = 0; x < image.width; x++) {
      if ((image.data[y * image.width + x] as number) <= threshold) continue;
      if (x < x0) x0 = x;
      if (x >= x1) x1 = x + 1;
      if (y < y0) y0 = y;
      if (y >= y1) y1 = y + 1;
    }
  }
  return x1 === 0 ? null : { x0, y0, x1, y1 };
}

export function cropImage(image: GreyImage, box: PixelBox): GreyImage {
  const out = blankImage(box.x1 - box.x0, box.y1 - box.y0);
  for (let y = 0; y < out.height; y++) {
    const from = (box.y0 + y) * image.width + box.x0;
    out.data.set(image.data.subarray(from, from + out.width), y * out.width);
  }
  return out;
}

/** Crops to the ink; an image without ink comes back unchanged. */
export function cropToInk(image: GreyImage): GreyImage {
  const box = inkBounds(image);
  return box === null ? image : cropImage(image, box);
}
