/**
 * `--augment`: small random distortions of each training image, drawn per batch so no two epochs see
 * the same picture. MNIST digits are centred, upright and drawn with one pen; digits drawn on the page's
 * canvas are not, and a model that has only seen the former is brittle on the latter.
 * Pure functions on 28×28 Float32Array images in 0..1 (row-major); no tfjs, so they are cheap to test.
 */
export const SIDE = 28;
const PIXELS = SIDE * SIDE;
/** Pixel centres run 0..27: rotating and scaling about 13.5 keeps a centred digit centred. */
const CENTRE = (SIDE - 1) / 2;

export interface Warp {
  /** Shift right / down, in pixels. */
  readonly dx: number;
  readonly dy: number;
  /** Clockwise on screen (y points down), in radians. */
  readonly angle: number;
  /** > 1 enlarges the digit. */
  readonly scale: number;
  /** Extra horizontal scale on top of `scale` (> 1 widens); absent: 1. Pen digits vary in width far
   * more than MNIST's, whose preprocessing fixed the height of most of them. */
  readonly stretchX?: number;
  /** Slant: x moves by `shear` × (y − centre), so > 0 leans the top left; absent: 0. */
  readonly shear?: number;
}

/** How far each distortion may go; every draw is uniform within ±range (scale within [min, max]). */
export interface AugmentRanges {
  readonly shiftPx: number;
  readonly rotateDeg: number;
  readonly scaleMin: number;
  readonly scaleMax: number;
  /** Stroke thickness: 0 leaves strokes alone; see `adjustStroke`. */
  readonly stroke: number;
  /** Horizontal stretch, within [min, max]; absent: none. */
  readonly stretchXMin?: number;
  readonly stretchXMax?: number;
  /** Shear within ±shear; absent: none. */
  readonly shear?: number;
}

/**
 * Width 0.75–1.25× and slant ±0.2: the range pen-drawn digits (pendigits, replayed through the page's
 * preprocessing) showed beyond MNIST's; measured by the preprocessing engineer as the distortions that matter.
 */
export const AUGMENT_RANGES: AugmentRanges = {
  shiftPx: 2,
  rotateDeg: 12,
  scaleMin: 0.85,
  scaleMax: 1.15,
  stroke: 0.5,
  stretchXMin: 0.75,
  stretchXMax: 1.25,
  shear: 0.2,
};

/**
 * Writes `src` shifted, rotated and scaled about the centre into `dst`, in one pass: each output pixel
 * samples the source where the inverse transform lands (bilinear, ink-free outside the frame). One
 * combined warp costs one interpolation, where three separate ones would blur the strokes three times.
 */
export function warp(src: Float32Array, dst: Float32Array, { dx, dy, angle, scale, stretchX = 1, shear = 0 }: Warp): void {
  const cos = Math.cos(angle) / scale;
  const sin = Math.sin(angle) / scale;
  for (let y = 0; y < SIDE; y++) {
    const v = y - CENTRE - dy;
    for (let x = 0; x < SIDE; x++) {
      const u = x - CENTRE - dx;
      // Inverse of: shear, then stretch x, then scale and rotate (all about the centre).
      const ry = -sin * u + cos * v;
      const sx = (cos * u + sin * v) / stretchX - shear * ry + CENTRE;
      const sy = ry + CENTRE;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      let value = 0;
      if (x0 >= -1 && x0 < SIDE && y0 >= -1 && y0 < SIDE) {
        const fx = sx - x0;
        const fy = sy - y0;
        const left = x0 >= 0;
        const right = x0 + 1 < SIDE;
        const top = y0 >= 0 ? y0 * SIDE : -1;
        const bottom = y0 + 1 < SIDE ? (y0 + 1) * SIDE : -1;
        let upper = 0;
        let lower = 0;
        if (top >= 0) upper = (left ? src[top + x0]! * (1 - fx) : 0) + (right ? src[top + x0 + 1]! * fx : 0);
        if (bottom >= 0) lower = (left ? src[bottom + x0]! * (1 - fx) : 0) + (right ? src[bottom + x0 + 1]! * fx : 0);
        value = upper * (1 - fy) + lower * fy;
      }
      dst[y * SIDE + x] = value;
    }
  }
}

/**
 * Thickens (amount > 0) or thins (amount < 0) the strokes: each pixel moves `|amount|` of the way towards
 * the brightest (or darkest) of itself and its four neighbours. A full 3×3 dilation or erosion would double
 * or erase MNIST's 2–3 px strokes; the blend keeps the change to a fraction of a pixel of pen width.
 */
export function adjustStroke(src: Float32Array, dst: Float32Array, amount: number): void {
  const grow = amount > 0;
  const weight = Math.abs(amount);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const i = y * SIDE + x;
      const self = src[i]!;
      // Outside the frame counts as blank paper.
      const up = y > 0 ? src[i - SIDE]! : 0;
      const down = y < SIDE - 1 ? src[i + SIDE]! : 0;
      const left = x > 0 ? src[i - 1]! : 0;
      const right = x < SIDE - 1 ? src[i + 1]! : 0;
      const target = grow ? Math.max(self, up, down, left, right) : Math.min(self, up, down, left, right);
      dst[i] = self + (target - self) * weight;
    }
  }
}

/** Draws one image's distortion from `random` (uniform 0..1). */
export function randomWarp(random: () => number, ranges: AugmentRanges = AUGMENT_RANGES): Required<Warp> & { stroke: number } {
  const spread = (range: number) => (random() * 2 - 1) * range;
  const stretchMin = ranges.stretchXMin ?? 1;
  const stretchMax = ranges.stretchXMax ?? 1;
  return {
    dx: spread(ranges.shiftPx),
    dy: spread(ranges.shiftPx),
    angle: (spread(ranges.rotateDeg) * Math.PI) / 180,
    scale: ranges.scaleMin + random() * (ranges.scaleMax - ranges.scaleMin),
    stroke: spread(ranges.stroke),
    // Drawn after the original four, so ranges without them replay the draws they always did.
    stretchX: stretchMin + random() * (stretchMax - stretchMin),
    shear: spread(ranges.shear ?? 0),
  };
}

/** Distorts `count` images in `pixels` in place, each with its own draw from `random`. */
export function augmentImages(pixels: Float32Array, count: number, random: () => number, ranges: AugmentRanges = AUGMENT_RANGES): void {
  const warped = new Float32Array(PIXELS);
  for (let n = 0; n < count; n++) {
    const image = pixels.subarray(n * PIXELS, (n + 1) * PIXELS);
    const draw = randomWarp(random, ranges);
    warp(image, warped, draw);
    adjustStroke(warped, image, draw.stroke);
  }
}
