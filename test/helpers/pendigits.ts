// The UCI pendigits trajectories (../shared/data/pendigits/pendigits-orig.tra): real handwriting as pen
// strokes, for replaying through the preprocessing, the API and the drawing page.
// Format (UNIPEN-like): `.SEGMENT DIGIT <n> ? "<label>"`, `.COMMENT <label> <writer> <index>`, then `.PEN_DOWN` … `.PEN_UP` blocks of "x y"
// lines. The tablet's y points up; here it is flipped so the strokes read like canvas pixels (y down).
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Point, Stroke } from '../../src/preprocess/drawing.ts';
import { SHARED_DATA } from './data.ts';
import { parseWriterRange } from './writer-range.ts';

export const PENDIGITS_FILE = resolve(SHARED_DATA, 'pendigits/pendigits-orig.tra');
/** Each digit was written in a box of this many tablet pixels; flipped y is PENDIGITS_BOX − y. */
export const PENDIGITS_BOX = 500;

export interface PendigitsSample {
  readonly label: number;
  readonly strokes: Stroke[];
  /** 1–30, from the `.COMMENT <label> <writer> <index>` line (0 if absent): for writer-disjoint splits. */
  readonly writer: number;
}

/** Parses the file's text (no file access, so a browser-side caller can use it too). */
export function parsePendigits(text: string): PendigitsSample[] {
  const samples: { label: number; strokes: Point[][]; writer: number }[] = [];
  let current: { label: number; strokes: Point[][]; writer: number } | undefined;
  let stroke: Point[] | undefined;
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] as string).trim();
    if (line.startsWith('.SEGMENT')) {
      const label = /"(\d)"\s*$/.exec(line)?.[1];
      if (label === undefined) throw new Error(`pendigits line ${n + 1}: .SEGMENT without a digit label`);
      current = { label: Number(label), strokes: [], writer: 0 };
      samples.push(current);
    } else if (line.startsWith('.COMMENT') && current !== undefined) {
      const writer = Number(line.split(/\s+/)[2]);
      if (Number.isInteger(writer)) current.writer = writer;
    } else if (line === '.PEN_DOWN') {
      if (current === undefined) throw new Error(`pendigits line ${n + 1}: .PEN_DOWN before any .SEGMENT`);
      stroke = [];
      current.strokes.push(stroke);
    } else if (line === '.PEN_UP') {
      stroke = undefined;
    } else if (stroke !== undefined && line !== '') {
      const [x, y] = line.split(/\s+/).map(Number);
      if (!Number.isFinite(x) || !Number.isFinite(y)) throw new Error(`pendigits line ${n + 1}: expected "x y"`);
      stroke.push({ x: x as number, y: PENDIGITS_BOX - (y as number) });
    }
  }
  return samples.filter((sample) => sample.strokes.some((s) => s.length > 0));
}

let cache: PendigitsSample[] | undefined;

/** All 7,494 samples, parsed once per process. */
export function loadPendigits(file = PENDIGITS_FILE): PendigitsSample[] {
  if (file !== PENDIGITS_FILE) return parsePendigits(readFileSync(file, 'utf8'));
  cache ??= parsePendigits(readFileSync(file, 'utf8'));
  return cache;
}

/** Writers whose digits no model here is trained on (the default model's fine-tune used writers 1–20):
 * accuracy is measured on these only. */
export const HELD_OUT_WRITERS = '21-30';

/** The recorded digits of the held-out writers. */
export function loadHeldOutPendigits(): PendigitsSample[] {
  const writers = new Set(parseWriterRange(HELD_OUT_WRITERS));
  return loadPendigits().filter((sample) => writers.has(sample.writer));
}

/**
 * `count` samples spread over the whole list (every k-th), so every writer and digit is represented
 * rather than only the first writer's.
 */
export function spreadSample(samples: readonly PendigitsSample[], count: number): PendigitsSample[] {
  if (count >= samples.length) return [...samples];
  const step = samples.length / count;
  return Array.from({ length: count }, (_, i) => samples[Math.floor(i * step)] as PendigitsSample);
}

/** A small seeded generator: the trainer's own (mulberry32), so the same seed builds the same numbers everywhere. */
export { seededRandom } from '../../src/train/random.ts';

export interface ComposedNumber {
  readonly labels: number[];
  readonly drawing: { width: number; height: number; strokes: Stroke[] };
}

/**
 * Writes `digits` side by side as one drawing, the way a person writes a number: each digit scaled to
 * a common height (±10 %), standing on a baseline jittered by ±5 % of the height, and a gap between neighbouring
 * ink boxes of 10–45 % of the height (`gaps`, as fractions). With positive gaps digits never touch, so a
 * correct segmentation exists.
 */
/** `--gaps MIN,MAX` of the benches: the gaps composeNumber leaves between digits, as fractions of their
 * height; below 0 the digits overlap. Throws with the one line to print. */
export function parseGaps(text: string): [number, number] {
  const gaps = text.split(',').map(Number);
  const [min, max] = gaps as [number, number];
  if (gaps.length !== 2 || !gaps.every((g) => Number.isFinite(g) && g >= -0.5 && g <= 2) || min > max) {
    throw new Error('--gaps must be MIN,MAX: fractions of the digit height, −0.5 ≤ MIN ≤ MAX ≤ 2 (below 0 the digits overlap)');
  }
  return [min, max];
}

export function composeNumber(digits: readonly PendigitsSample[], random: () => number, gaps: readonly [number, number] = [0.1, 0.45], height = 100): ComposedNumber {
  const strokes: Stroke[] = [];
  const baseline = height * 1.3;
  let left = height * 0.3;
  for (const digit of digits) {
    const points = digit.strokes.flat();
    const minX = Math.min(...points.map((p) => p.x));
    const maxX = Math.max(...points.map((p) => p.x));
    const minY = Math.min(...points.map((p) => p.y));
    const maxY = Math.max(...points.map((p) => p.y));
    const scale = (height * (0.9 + 0.2 * random())) / Math.max(maxY - minY, 1);
    const bottom = baseline + height * 0.1 * (random() - 0.5);
    for (const stroke of digit.strokes) strokes.push(stroke.map((p) => ({ x: left + (p.x - minX) * scale, y: bottom - (maxY - p.y) * scale })));
    left += (maxX - minX) * scale + height * (gaps[0] + (gaps[1] - gaps[0]) * random());
  }
  return { labels: digits.map((d) => d.label), drawing: { width: Math.ceil(left + height * 0.3), height: Math.ceil(height * 1.6), strokes } };
}
