// Distances between pen traces, for segmentation. Bounded work matters here: a drawing may hold 8,192
// points, and every pair of strokes near each other is compared, so most segment pairs are ruled out by
// their bounding boxes before any exact distance is computed.
import type { Point, Stroke } from './drawing.ts';

interface Box {
  minX: number;
  minY: number;
  maxX: number;
  maxY: number;
}

/** Segments per block: a trace is tested block against block first, segment against segment only within close blocks. */
const BLOCK = 16;

/**
 * A stroke with the bounding boxes of its segments, and of blocks of BLOCK segments, computed once
 * for repeated comparisons: a two-level hierarchy, so strokes that nest without touching (rings, combs)
 * are told apart mostly by a few block boxes.
 */
export class Trace {
  readonly box: Box;
  readonly segments: number;
  /** Per segment i (points i and i+1; a lone point is one segment): minX, minY, maxX, maxY. */
  readonly segmentBoxes: Float64Array;
  /** Per block k (segments k·BLOCK up to (k+1)·BLOCK − 1): minX, minY, maxX, maxY. */
  readonly blockBoxes: Float64Array;

  constructor(readonly stroke: Stroke) {
    this.box = boundsOf(stroke, 0, stroke.length - 1);
    this.segments = Math.max(1, stroke.length - 1);
    this.segmentBoxes = new Float64Array(this.segments * 4);
    for (let i = 0; i < this.segments; i++) {
      const box = boundsOf(stroke, i, Math.min(i + 1, stroke.length - 1));
      this.segmentBoxes.set([box.minX, box.minY, box.maxX, box.maxY], i * 4);
    }
    const blocks = Math.ceil(this.segments / BLOCK);
    this.blockBoxes = new Float64Array(blocks * 4);
    for (let k = 0; k < blocks; k++) {
      const box = boundsOf(stroke, k * BLOCK, Math.min((k + 1) * BLOCK, stroke.length - 1));
      this.blockBoxes.set([box.minX, box.minY, box.maxX, box.maxY], k * 4);
    }
  }

  point(i: number): Point {
    return (this.stroke[i] ?? this.stroke[this.stroke.length - 1]) as Point;
  }
}

/** Whether box `i` of `boxes`, widened by `margin` on every side, meets box `j` of `others`. */
function boxesMeet(boxes: Float64Array, i: number, others: Float64Array, j: number, margin: number): boolean {
  return (
    (boxes[i * 4] as number) - margin <= (others[j * 4 + 2] as number) &&
    (boxes[i * 4 + 2] as number) + margin >= (others[j * 4] as number) &&
    (boxes[i * 4 + 1] as number) - margin <= (others[j * 4 + 3] as number) &&
    (boxes[i * 4 + 3] as number) + margin >= (others[j * 4 + 1] as number)
  );
}

/**
 * Whether two traces come within `limit` of each other: blocks, then segments, whose boxes are farther
 * apart than `limit` are skipped; the first close pair of segments ends the search.
 */
export function tracesWithin(a: Trace, b: Trace, limit: number): boolean {
  if (boxGapSquared(a.box, b.box) > limit * limit) return false;
  const limitSquared = limit * limit;
  const blocksA = a.blockBoxes.length / 4;
  const blocksB = b.blockBoxes.length / 4;
  for (let ka = 0; ka < blocksA; ka++) {
    for (let kb = 0; kb < blocksB; kb++) {
      if (!boxesMeet(a.blockBoxes, ka, b.blockBoxes, kb, limit)) continue;
      for (let i = ka * BLOCK; i < Math.min((ka + 1) * BLOCK, a.segments); i++) {
        if (!boxesMeet(a.segmentBoxes, i, b.blockBoxes, kb, limit)) continue;
        for (let j = kb * BLOCK; j < Math.min((kb + 1) * BLOCK, b.segments); j++) {
          if (!boxesMeet(a.segmentBoxes, i, b.segmentBoxes, j, limit)) continue;
          if (segmentDistanceSquared(a.point(i), a.point(i + 1), b.point(j), b.point(j + 1)) <= limitSquared) return true;
        }
      }
    }
  }
  return false;
}

/** The shortest distance between two traces, pruning segment pairs that cannot beat the best so far. */
export function traceDistance(a: Trace, b: Trace): number {
  let bestSquared = Infinity;
  const boxesA = a.segmentBoxes;
  const boxesB = b.segmentBoxes;
  for (let i = 0; i < a.segments; i++) {
    const boxA = { minX: boxesA[i * 4] as number, minY: boxesA[i * 4 + 1] as number, maxX: boxesA[i * 4 + 2] as number, maxY: boxesA[i * 4 + 3] as number };
    if (boxGapSquared(boxA, b.box) >= bestSquared) continue;
    for (let j = 0; j < b.segments; j++) {
      const gapX = Math.max(boxA.minX - (boxesB[j * 4 + 2] as number), (boxesB[j * 4] as number) - boxA.maxX, 0);
      const gapY = Math.max(boxA.minY - (boxesB[j * 4 + 3] as number), (boxesB[j * 4 + 1] as number) - boxA.maxY, 0);
      if (gapX * gapX + gapY * gapY >= bestSquared) continue;
      bestSquared = Math.min(bestSquared, segmentDistanceSquared(a.point(i), a.point(i + 1), b.point(j), b.point(j + 1)));
      if (bestSquared === 0) return 0;
    }
  }
  return Math.sqrt(bestSquared);
}

function boundsOf(stroke: Stroke, from: number, to: number): Box {
  const box = { minX: Infinity, minY: Infinity, maxX: -Infinity, maxY: -Infinity };
  for (let i = from; i <= to; i++) {
    const { x, y } = stroke[i] as Point;
    if (x < box.minX) box.minX = x;
    if (x > box.maxX) box.maxX = x;
    if (y < box.minY) box.minY = y;
    if (y > box.maxY) box.maxY = y;
  }
  return box;
}

function boxGapSquared(a: Box, b: Box): number {
  const gapX = Math.max(a.minX - b.maxX, b.minX - a.maxX, 0);
  const gapY = Math.max(a.minY - b.maxY, b.minY - a.maxY, 0);
  return gapX * gapX + gapY * gapY;
}

function segmentDistanceSquared(a0: Point, a1: Point, b0: Point, b1: Point): number {
  if (segmentsCross(a0, a1, b0, b1)) return 0;
  return Math.min(pointToSegmentSquared(a0, b0, b1), pointToSegmentSquared(a1, b0, b1), pointToSegmentSquared(b0, a0, a1), pointToSegmentSquared(b1, a0, a1));
}

function pointToSegmentSquared(p: Point, s0: Point, s1: Point): number {
  const dx = s1.x - s0.x;
  const dy = s1.y - s0.y;
  const lengthSquared = dx * dx + dy * dy;
  const t = lengthSquared === 0 ? 0 : Math.min(1, Math.max(0, ((p.x - s0.x) * dx + (p.y - s0.y) * dy) / lengthSquared));
  const ex = p.x - (s0.x + t * dx);
  const ey = p.y - (s0.y + t * dy);
  return ex * ex + ey * ey;
}

function cross(o: Point, a: Point, b: Point): number {
  return (a.x - o.x) * (b.y - o.y) - (a.y - o.y) * (b.x - o.x);
}

/** Proper crossings only; segments that merely touch are found by the point distances, which are then 0. */
function segmentsCross(a0: Point, a1: Point, b0: Point, b1: Point): boolean {
  const d1 = cross(b0, b1, a0);
  const d2 = cross(b0, b1, a1);
  const d3 = cross(a0, a1, b0);
  const d4 = cross(a0, a1, b1);
  return ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0));
}
