// Other ways to split a drawn number, for the classifier to judge. segment.ts decides from geometry
// alone, and digits written touching or overlapping, whose strokes cross, stay one piece there. For such
// pieces this offers alternatives: the piece's strokes, taken left to right, cut into two or three
// digits. The consumer classifies them with the rest and keeps the reading its model is surest of
// (src/model/split-choice.ts).
//
// Only splits are offered, never joins of two pieces into one: on numbers composed of pen digits, a join
// never made a wrong reading right, and often a right one wrong (a digit squeezed from two reads with
// false confidence). Measured with bench/pendigits.ts --gaps -0.1,0.1; docs/page.md has the figures.
import { strokeBounds, type Stroke } from './drawing.ts';
import type { Segmentation } from './segment.ts';

/** A piece at least this wide, as a fraction of the number's height, may be two or three digits. */
export const SPLIT_WIDTH_FRACTION = 0.7;
/** Each digit of a split is at least this tall, as a fraction of the number's height: digits of one number
 * are about as tall as each other, while the parts of one digit (a 4's bar, a 5's hat) need not be. */
export const PART_HEIGHT_FRACTION = 0.7;
/** Pieces of more strokes than this are not split: the ways to cut them grow with the square of their strokes. */
export const MAX_SPLIT_STROKES = 8;
/** Alternatives a drawing gets at most, whatever its budget: numbers written touching need one or two. */
export const MAX_ALTERNATIVES = 32;

/** Pieces `from` up to `to` (exclusive) of the segmentation, read instead as `pieces` (stroke indices). */
export interface SplitAlternative {
  readonly from: number;
  readonly to: number;
  readonly pieces: readonly (readonly number[])[];
}

/**
 * The alternatives, the widest pieces' first, for as long as drawing them costs at most `budgetUs` in all
 * and they are at most MAX_ALTERNATIVES:
 * `costUs` says what drawing a set of strokes as one digit costs (digit-images.ts).
 */
export function splitAlternatives({ strokes, pieces, size }: Segmentation, costUs: (members: readonly number[]) => number, budgetUs: number): SplitAlternative[] {
  const widths = pieces.map((members) => widthOf(strokes, members));
  const order = pieces.map((_, i) => i).sort((a, b) => (widths[b] as number) - (widths[a] as number));
  const alternatives: SplitAlternative[] = [];
  let spentUs = 0;
  for (const i of order) {
    const members = pieces[i] as readonly number[];
    if (members.length < 2 || members.length > MAX_SPLIT_STROKES || (widths[i] as number) < SPLIT_WIDTH_FRACTION * size) continue;
    for (const split of leftToRightSplits(strokes, members, PART_HEIGHT_FRACTION * size)) {
      const cost = split.reduce((sum, part) => sum + costUs(part), 0);
      if (spentUs + cost > budgetUs || alternatives.length === MAX_ALTERNATIVES) return alternatives;
      spentUs += cost;
      alternatives.push({ from: i, to: i + 1, pieces: split });
    }
  }
  return alternatives;
}

/** The piece's strokes ordered by their centres in x, cut into two or three runs each at least `minHeight`
 * tall; the cuts whose runs overlap least in x first. */
function leftToRightSplits(strokes: readonly Stroke[], members: readonly number[], minHeight: number): number[][][] {
  const centres = new Map(members.map((i) => [i, centreX(strokes, i)]));
  const ordered = [...members].sort((a, b) => (centres.get(a) as number) - (centres.get(b) as number));
  const n = ordered.length;
  /** The runs between the cut positions `at`, each in the order its strokes were drawn, with its box. */
  const runsAt = (at: readonly number[]) => {
    const edges = [0, ...at, n];
    return edges.slice(1).map((end, k) => {
      const run = ordered.slice(edges[k], end).sort((x, y) => x - y);
      return { run, box: boxOf(strokes, run) };
    });
  };
  const cuts: number[][] = [];
  for (let a = 1; a < n; a++) cuts.push([a]);
  for (let a = 1; a < n; a++) for (let b = a + 1; b < n; b++) cuts.push([a, b]);
  // Neighbouring digits overlap little in x, so the cuts whose runs overlap least are tried first.
  return cuts
    .map(runsAt)
    .filter((runs) => runs.every(({ box }) => box.maxY - box.minY >= minHeight))
    .map((runs) => ({ runs: runs.map(({ run }) => run), overlap: overlapInX(runs.map(({ box }) => box)) }))
    .sort((a, b) => a.overlap - b.overlap)
    .map(({ runs }) => runs);
}

type Box = NonNullable<ReturnType<typeof strokeBounds>>;

/** How far each box reaches into the x range of the next, summed. */
function overlapInX(boxes: readonly Box[]): number {
  let overlap = 0;
  for (let k = 1; k < boxes.length; k++) overlap += Math.max(0, (boxes[k - 1] as Box).maxX - (boxes[k] as Box).minX);
  return overlap;
}

function centreX(strokes: readonly Stroke[], i: number): number {
  const box = boxOf(strokes, [i]);
  return (box.minX + box.maxX) / 2;
}

function widthOf(strokes: readonly Stroke[], members: readonly number[]): number {
  const box = boxOf(strokes, members);
  return box.maxX - box.minX;
}

/** The bounds of the strokes `members` names: a piece's or a run's, never empty. */
function boxOf(strokes: readonly Stroke[], members: readonly number[]): Box {
  return strokeBounds(members.map((i) => strokes[i] as Stroke)) as Box;
}
