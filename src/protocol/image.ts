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
