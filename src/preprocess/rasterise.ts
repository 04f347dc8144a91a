// Step 1 of drawingToPixels: strokes → anti-aliased ink, drawn with a round pen.
import type { Stroke } from './drawing.ts';
import { blankImage, type GreyImage } from './image.ts';

/**
 * Draws `strokes` (already in this image's pixel coordinates; pixel (i, j) spans [i, i+1]×[j, j+1]) with a
 * round pen of radius `penRadius`. A pixel's ink is the pen's coverage of it, approximated by how far
 * its centre lies inside the pen's outline (1 px ramp): cheap, and smooth enough once the image is
 * downsampled. Overlapping strokes take the maximum, so crossings do not turn darker than a line.
 * A one-point stroke is a dot.
 */
export function rasteriseStrokes(strokes: readonly Stroke[], width: number, height: number, penRadius: number): GreyImage {
  const image = blankImage(width, height);
  for (const stroke of strokes) {
    const first = stroke[0];
    if (first === undefined) continue;
    if (stroke.length === 1) drawSegment(image, first.x, first.y, first.x, first.y, penRadius);
    for (let i = 1; i < stroke.length; i++) {
      const a = stroke[i - 1] as { x: number; y: number };
      const b = stroke[i] as { x: number; y: number };
      drawSegment(image, a.x, a.y, b.x, b.y, penRadius);
    }
  }
  return image;
}

function drawSegment(image: GreyImage, ax: number, ay: number, bx: number, by: number, radius: number): void {
  const reach = radius + 0.5;
  const y0 = Math.max(0, Math.floor(Math.min(ay, by) - reach));
  const y1 = Math.min(image.height - 1, Math.ceil(Math.max(ay, by) + reach));
  const dx = bx - ax;
  const dy = by - ay;
  const lengthSquared = dx * dx + dy * dy;
  for (let py = y0; py <= y1; py++) {
    const cy = py + 0.5;
    // Only the part of the segment within `reach` of this row's centre line can ink it: its x span,
    // widened by `reach`, bounds the columns to visit. Keeps long diagonal segments cheap.
    let t0 = 0;
    let t1 = 1;
    if (dy !== 0) {
      const ta = (cy - reach - ay) / dy;
      const tb = (cy + reach - ay) / dy;
      t0 = Math.max(0, Math.min(ta, tb));
      t1 = Math.min(1, Math.max(ta, tb));
      if (t0 > t1) continue;
    }
    const xa = ax + t0 * dx;
    const xb = ax + t1 * dx;
    const x0 = Math.max(0, Math.floor(Math.min(xa, xb) - reach));
    const x1 = Math.min(image.width - 1, Math.ceil(Math.max(xa, xb) + reach));
    for (let px = x0; px <= x1; px++) {
      const cx = px + 0.5;
      // Distance from the pixel centre to the segment: project, clamp to the ends.
      const t = lengthSquared === 0 ? 0 : Math.min(1, Math.max(0, ((cx - ax) * dx + (cy - ay) * dy) / lengthSquared));
      const ex = cx - (ax + t * dx);
      const ey = cy - (ay + t * dy);
      const coverage = reach - Math.sqrt(ex * ex + ey * ey);
      if (coverage <= 0) continue;
      const index = py * image.width + px;
      const ink = coverage >= 1 ? 1 : coverage;
      if (ink > (image.data[index] as number)) image.data[index] = ink;
    }
  }
}
