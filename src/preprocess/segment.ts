// A drawn number → one drawing per digit, left to right. Digits are found from the strokes alone:
// strokes whose ink touches belong together, then pieces stacked over each other (the separate bar of
// a 4, 5 or 7) join. Neighbours whose ink touches only through the width of the pen come apart again
// when the piece they make is too wide for one digit; digits whose strokes themselves cross stay one
// piece: that needs a split of the ink itself, which this does not attempt.
import { strokeBounds, type Drawing, type Stroke } from './drawing.ts';
import { Trace, traceDistance, tracesWithin } from './polyline.ts';

/**
 * Two traces closer than this fraction of the number's height are taken to touch, when the page sent no
 * pen width or a thinner one: a pen lifted and put back at the same place leaves such a gap.
 */
export const TOUCH_FRACTION = 0.04;
/**
 * Two pieces whose x ranges overlap by at least this much of the narrower one's width are parts of one
 * digit. Neighbouring digits of slanted writing overlap a little; a 4's bar lies within the 4.
 */
export const OVERLAP_FRACTION = 0.5;
/**
 * A piece shorter than this fraction of the number's height cannot be a digit of its own: it is a bar
 * (of a 5, a 7, an open 4) that missed its digit, and joins the nearest piece.
 */
export const FRAGMENT_FRACTION = 0.5;
/**
 * Two close pieces, one hanging well below the other (its top and its bottom both lower by this fraction
 * of their joint height), are the two strokes of an open 4: its "L" and its bar, the bar begun low.
 * Neighbouring digits share a baseline and a top line, give or take the writer's drift.
 */
export const STAGGER_FRACTION = 0.15;
/** "Close" for STAGGER_FRACTION: the pieces' x ranges are at most this fraction of the height apart. */
export const STAGGER_GAP_FRACTION = 0.15;
/**
 * A piece wider than this fraction of the number's height is more than one digit (a written digit is
 * narrower than it is tall): its strokes are grouped again by their centre lines alone, without the pen's
 * width, which on a small number joins the ink of neighbours that the writer kept apart.
 */
export const WIDE_FRACTION = 1.1;

interface Piece {
  /** Indices into the drawing's strokes. */
  members: number[];
  minX: number;
  maxX: number;
  minY: number;
  maxY: number;
}

/** A drawing's strokes (the empty ones dropped) and the digits found among them, left to right. */
export interface Segmentation {
  readonly strokes: readonly Stroke[];
  /** Per digit, the indices of its strokes in the order they were drawn. */
  readonly pieces: readonly (readonly number[])[];
  /** The number's height, which the fractions above are of. */
  readonly size: number;
}

export function segmentDrawing(drawing: Drawing): Drawing[] {
  const { strokes, pieces } = segmentStrokes(drawing);
  return pieces.map((members) => pieceDrawing(drawing, strokes, members));
}

/** The drawing of one digit: `drawing` holding only the strokes `members` names. */
export function pieceDrawing(drawing: Drawing, strokes: readonly Stroke[], members: readonly number[]): Drawing {
  return { ...drawing, strokes: members.map((i) => strokes[i] as Stroke) };
}

export function segmentStrokes(drawing: Drawing): Segmentation {
  const strokes = drawing.strokes.filter((stroke) => stroke.length > 0);
  const bounds = strokeBounds(strokes);
  if (bounds === null) return { strokes, pieces: [], size: 0 };
  const traces = strokes.map((stroke) => new Trace(stroke));
  const size = Math.max(bounds.maxY - bounds.minY, 1e-6);
  const centreLineTouch = TOUCH_FRACTION * size;
  const touch = Math.max(drawing.lineWidth ?? 0, centreLineTouch);
  const groups = touchingGroups(traces, touch, traces.map((_, i) => i)).flatMap((piece) =>
    piece.maxX - piece.minX > WIDE_FRACTION * size && touch > centreLineTouch ? touchingGroups(traces, centreLineTouch, piece.members) : [piece],
  );
  let pieces = mergeOverlappingInX(groups, touch / 2);
  pieces = attachFragments(pieces, traces, FRAGMENT_FRACTION * size);
  pieces.sort((a, b) => a.minX + a.maxX - (b.minX + b.maxX));
  pieces = mergeStaggeredNeighbours(pieces, STAGGER_GAP_FRACTION * size);
  // Strokes in the order they were drawn: a replay of one digit then looks like its writing.
  return { strokes, pieces: pieces.map((piece) => piece.members.sort((a, b) => a - b)), size };
}

/** Connected components of the "traces come within `touch`" relation among the traces `members` names. */
function touchingGroups(traces: Trace[], touch: number, members: readonly number[]): Piece[] {
  const parent = new Map(members.map((i) => [i, i]));
  const root = (i: number): number => {
    while (parent.get(i) !== i) {
      const up = parent.get(parent.get(i) as number) as number;
      parent.set(i, up);
      i = up;
    }
    return i;
  };
  for (const [k, a] of members.entries()) {
    for (const b of members.slice(k + 1)) {
      if (root(a) !== root(b) && tracesWithin(traces[a] as Trace, traces[b] as Trace, touch)) parent.set(root(a), root(b));
    }
  }
  const groups = new Map<number, Piece>();
  members.forEach((i) => {
    const trace = traces[i] as Trace;
    const piece = { members: [i], minX: trace.box.minX, maxX: trace.box.maxX, minY: trace.box.minY, maxY: trace.box.maxY };
    const group = groups.get(root(i));
    groups.set(root(i), group === undefined ? piece : join(group, piece));
  });
  return [...groups.values()];
}

/**
 * Joins pieces that overlap strongly in x until none do. `pad` widens each range on both sides so that
 * a straight vertical bar (zero width) has a width to compare.
 */
function mergeOverlappingInX(pieces: Piece[], pad: number): Piece[] {
  let merged = true;
  while (merged) {
    merged = false;
    search: for (let a = 0; a < pieces.length; a++) {
      for (let b = a + 1; b < pieces.length; b++) {
        const pa = pieces[a] as Piece;
        const pb = pieces[b] as Piece;
        const overlap = Math.min(pa.maxX, pb.maxX) - Math.max(pa.minX, pb.minX) + 2 * pad;
        const narrower = Math.min(pa.maxX - pa.minX, pb.maxX - pb.minX) + 2 * pad;
        if (overlap < OVERLAP_FRACTION * narrower) continue;
        pieces[a] = join(pa, pb);
        pieces.splice(b, 1);
        merged = true;
        break search;
      }
    }
  }
  return pieces;
}

/** Each piece shorter than `minHeight` joins the piece whose ink is nearest, shortest first. */
function attachFragments(pieces: Piece[], traces: Trace[], minHeight: number): Piece[] {
  for (;;) {
    if (pieces.length < 2) return pieces;
    let shortest = 0;
    for (let i = 1; i < pieces.length; i++) if (height(pieces[i] as Piece) < height(pieces[shortest] as Piece)) shortest = i;
    const fragment = pieces[shortest] as Piece;
    if (height(fragment) >= minHeight) return pieces;
    let nearest = -1;
    let nearestDistance = Infinity;
    pieces.forEach((piece, i) => {
      if (i === shortest) return;
      const distance = pieceDistance(fragment, piece, traces);
      if (distance < nearestDistance) [nearest, nearestDistance] = [i, distance];
    });
    const target = pieces[nearest] as Piece;
    pieces = pieces.filter((_, i) => i !== shortest && i !== nearest);
    pieces.push(join(target, fragment));
  }
}

/** Joins left-to-right neighbours that are close in x and staggered in y (see STAGGER_FRACTION). */
function mergeStaggeredNeighbours(sorted: Piece[], maxGap: number): Piece[] {
  const out: Piece[] = [];
  for (const piece of sorted) {
    const previous = out[out.length - 1];
    if (previous !== undefined && piece.minX - previous.maxX <= maxGap && staggered(previous, piece)) out[out.length - 1] = join(previous, piece);
    else out.push(piece);
  }
  return out;
}

function staggered(a: Piece, b: Piece): boolean {
  const joint = Math.max(a.maxY, b.maxY) - Math.min(a.minY, b.minY);
  const top = b.minY - a.minY;
  const bottom = b.maxY - a.maxY;
  return Math.sign(top) === Math.sign(bottom) && Math.min(Math.abs(top), Math.abs(bottom)) >= STAGGER_FRACTION * joint;
}

function height(piece: Piece): number {
  return piece.maxY - piece.minY;
}

function pieceDistance(a: Piece, b: Piece, traces: Trace[]): number {
  let best = Infinity;
  for (const i of a.members) for (const j of b.members) best = Math.min(best, traceDistance(traces[i] as Trace, traces[j] as Trace));
  return best;
}

/** One piece holding both. */
function join(first: Piece, second: Piece): Piece {
  return {
    members: [...first.members, ...second.members],
    minX: Math.min(first.minX, second.minX),
    maxX: Math.max(first.maxX, second.maxX),
    minY: Math.min(first.minY, second.minY),
    maxY: Math.max(first.maxY, second.maxY),
  };
}
