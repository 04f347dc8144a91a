// MNIST's framing of a digit, measured here with nothing from src/preprocess: the checks that the
// fixtures (test/fixtures/preprocess/drawings.json) and drawingToPixels are held to must not come from
// the code they check (centre.ts finds the centre of mass that drawingToPixels then moves; a fault there
// would pass a test that measures with it). Used by the tests and by scripts/make-preprocess-fixtures.ts.

export const SIDE = 28;

/** MNIST (LeCun et al.): the digit's longer side fills a 20-pixel box... */
export const MNIST_BOX = 20;
/** ...and its centre of mass is put at the centre of the 28×28 frame: (14, 14) with pixel i at i (the
 * MNIST test set's mean centre of mass, measured this way, is (14.01, 13.99)). Whole-pixel shifts put it
 * within half a pixel of there. */
export const MNIST_CENTRE = 14;

/** Weighted mean of the pixel indices, each pixel weighing its value; null for a blank image. */
export function massCentre(values: ArrayLike<number>): { x: number; y: number } | null {
  let mass = 0;
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < SIDE * SIDE; i++) {
    const v = values[i] as number;
    mass += v;
    sx += v * (i % SIDE);
    sy += v * Math.floor(i / SIDE);
  }
  return mass > 0 ? { x: sx / mass, y: sy / mass } : null;
}

/** Columns and rows that hold any value above `threshold`: width and height of the ink. */
export function inkExtent(values: ArrayLike<number>, threshold = 0): { width: number; height: number } {
  const columns = new Set<number>();
  const rows = new Set<number>();
  for (let i = 0; i < SIDE * SIDE; i++) {
    if ((values[i] as number) <= threshold) continue;
    columns.add(i % SIDE);
    rows.add(Math.floor(i / SIDE));
  }
  const span = (set: Set<number>) => (set.size === 0 ? 0 : Math.max(...set) - Math.min(...set) + 1);
  return { width: span(columns), height: span(rows) };
}

/** Bytes 0..255, 28 to a row, as two hex digits each: one line of text per image row. */
export function toHexRows(bytes: ArrayLike<number>): string[] {
  return Array.from({ length: SIDE }, (_, y) => Array.from({ length: SIDE }, (_, x) => (bytes[y * SIDE + x] as number).toString(16).padStart(2, '0')).join(''));
}

export function fromHexRows(rows: readonly string[]): Uint8Array {
  if (rows.length !== SIDE || rows.some((row) => !/^[0-9a-f]{56}$/.test(row))) throw new Error('expected 28 rows of 56 hex digits');
  return Uint8Array.from(rows.join('').match(/../g) as string[], (pair) => Number.parseInt(pair, 16));
}

/** The image as text for a reviewer: darker characters for more ink. */
export function preview(bytes: ArrayLike<number>): string[] {
  const ramp = ' .:-=+*#%@';
  return Array.from({ length: SIDE }, (_, y) =>
    Array.from({ length: SIDE }, (_, x) => ramp[Math.min(ramp.length - 1, Math.ceil(((bytes[y * SIDE + x] as number) / 255) * (ramp.length - 1)))]).join(''),
  );
}

/**
 * What every digit image must show, whatever code made it: values in range, blank corners, the longer
 * side of the ink `longerSide` pixels (20 for a digit; a lone dot is smaller), and the centre of mass
 * within half a pixel of (14, 14). Returns the failures, empty when all hold.
 */
export function framingProblems(bytes: ArrayLike<number>, longerSide: number = MNIST_BOX): string[] {
  const problems: string[] = [];
  if (bytes.length !== SIDE * SIDE) return [`${bytes.length} pixels, not ${SIDE * SIDE}`];
  for (const corner of [0, SIDE - 1, SIDE * (SIDE - 1), SIDE * SIDE - 1]) if (bytes[corner] !== 0) problems.push(`corner pixel ${corner} is inked`);
  const { width, height } = inkExtent(bytes);
  if (Math.max(width, height) !== longerSide) problems.push(`the ink is ${width}×${height}, its longer side not ${longerSide}`);
  const centre = massCentre(bytes);
  if (centre === null) problems.push('no ink');
  // A symmetric shape's centre can sit exactly half a pixel off: allow that, rounding error included.
  else if (Math.abs(centre.x - MNIST_CENTRE) > 0.5 + 1e-9 || Math.abs(centre.y - MNIST_CENTRE) > 0.5 + 1e-9) {
    problems.push(`centre of mass at (${centre.x.toFixed(2)}, ${centre.y.toFixed(2)}), not within 0.5 of (${MNIST_CENTRE}, ${MNIST_CENTRE})`);
  }
  return problems;
}
