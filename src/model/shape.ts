// What an image and an answer look like, without importing tfjs: the main thread needs these constants
// but not the library (loading tfjs there would only slow start-up; inference runs in the worker).

export const IMAGE_SIZE = 28;
export const PIXELS = IMAGE_SIZE * IMAGE_SIZE;
export const CLASSES = 10;

export interface ModelSource {
  readonly version: string;
  readonly modelJson: Uint8Array | string;
  readonly weightsBin: Uint8Array;
}

export function argmax(values: ArrayLike<number>, from: number, length: number): number {
  let best = 0;
  for (let i = 1; i < length; i++) if ((values[from + i] as number) > (values[from + best] as number)) best = i;
  return best;
}
