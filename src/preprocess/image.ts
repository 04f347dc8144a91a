// A grey image as the preprocessing steps pass it along: ink intensity 0..1, row-major, white on black.
export interface GreyImage {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export function blankImage(width: number, height: number): GreyImage {
  return { width, height, data: new Float32Array(width * height) };
}
