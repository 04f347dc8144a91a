// What an image and an answer look like on every side of the service: a 28×28 grey image of 784 values
// in 0..1 (white digit on black, the MNIST convention) and ten class probabilities. Plain constants, so
// the main thread can use them without importing tfjs (inference runs in its own thread).

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const CLASSES = 10;

export function argmax(values: ArrayLike<number>, from: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if ((values[from + i] as number) > (values[from + best] as number)) best = i;
  return best;
}

/** Images as the store keeps them: one byte a pixel, round(value × 255) as on the wire (messages.ts), in
 * base64. The consumer's model saw exactly these steps, so nothing it classified is lost. */
export function imagesToText(pixels: ArrayLike<number>): string {
  return Buffer.from(imageBytes(pixels)).toString('base64');
}

/** One byte a pixel, round(value × 255), clamped to 0..255 (half to even, as on the wire). */
export function imageBytes(pixels: ArrayLike<number>): Uint8Array {
  const bytes = new Uint8ClampedArray(pixels.length);
  for (let i = 0; i < pixels.length; i++) bytes[i] = (pixels[i] as number) * 255;
  return new Uint8Array(bytes.buffer);
}

/** The inverse of imagesToText: values in 0..1. */
export function imagesFromText(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const pixels = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) pixels[i] = (bytes[i] as number) / 255;
  return pixels;
}
