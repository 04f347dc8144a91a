// Writes test/fixtures/preprocess/drawings.json: a few drawings and the 28×28 images the server makes of
// them (one byte a pixel, as the model and the store get them), for test/preprocess/fixtures.test.ts to
// hold drawingToDigitImages to. The fixture is the reviewed record of what the preprocessing gives; a
// test that recomputed it with the same code could not notice a change.
//
// Run it only when the preprocessing is meant to change, and review what it prints: every image is
// checked here against MNIST's framing with test/preprocess/mnist-framing.ts (nothing from
// src/preprocess), and shown as text. It refuses to write images that fail those checks.
// Usage: bun scripts/make-preprocess-fixtures.ts [--check]   (--check: compare, write nothing)
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { Drawing, Point, Stroke } from '../src/preprocess/drawing.ts';
import { drawingToDigitImages } from '../src/preprocess/digit-images.ts';
import { framingProblems, preview, toHexRows } from '../test/preprocess/mnist-framing.ts';

const OUT = resolve(import.meta.dir, '../test/fixtures/preprocess/drawings.json');

/** An ellipse as one closed stroke of `points` segments. */
const ellipse = (cx: number, cy: number, rx: number, ry: number, points = 40): Stroke =>
  Array.from({ length: points + 1 }, (_, i) => ({ x: cx + rx * Math.sin((2 * Math.PI * i) / points), y: cy - ry * Math.cos((2 * Math.PI * i) / points) }));
const round2 = (stroke: Stroke): Stroke => stroke.map((p): Point => ({ x: Math.round(p.x * 100) / 100, y: Math.round(p.y * 100) / 100 }));

interface Case {
  readonly name: string;
  /** What a reviewer should see. */
  readonly shows: string;
  readonly drawing: Drawing;
  /** Longer side of each image's ink, in pixels: MNIST's 20-pixel box. */
  readonly longerSides: number[];
}

const CASES: Case[] = [
  { name: 'zero', shows: 'an upright ellipse, 2:3', drawing: { width: 280, height: 280, strokes: [round2(ellipse(140, 140, 60, 90))] }, longerSides: [20] },
  { name: 'wide-zero', shows: 'an ellipse wider than tall, 9:4, on a wide canvas', drawing: { width: 500, height: 300, strokes: [round2(ellipse(100, 150, 90, 40))] }, longerSides: [20] },
  { name: 'one', shows: 'a vertical bar, 20 px tall, a few wide', drawing: { width: 280, height: 280, strokes: [[{ x: 140, y: 40 }, { x: 140, y: 240 }]] }, longerSides: [20] },
  {
    name: 'seven',
    shows: 'a 7 with a cross bar, in two strokes, drawn with a thick pen (which is ignored)',
    drawing: { width: 280, height: 280, lineWidth: 24, strokes: [[{ x: 60, y: 40 }, { x: 220, y: 40 }, { x: 110, y: 240 }], [{ x: 100, y: 140 }, { x: 190, y: 140 }]] },
    longerSides: [20],
  },
  // Fitting scales any ink up to the box, a pen's dot too: a coarse disc (a few pixels, upscaled).
  { name: 'dot', shows: 'a single point: a round blob filling the 20-pixel box', drawing: { width: 10, height: 10, strokes: [[{ x: 3, y: 4 }]] }, longerSides: [20] },
  {
    // The drawing test/http/page.test.ts sends, point for point (its formulas): a 1 and a 0 side by side.
    name: 'number-10',
    shows: 'the number 10: a bar, then an ellipse, as two images left to right',
    drawing: {
      width: 500,
      height: 200,
      strokes: [
        Array.from({ length: 29 }, (_, i) => ({ x: 100, y: 30 + i * 5 })),
        Array.from({ length: 41 }, (_, i) => ({ x: 300 + 40 * Math.sin((i / 40) * 2 * Math.PI), y: 100 - 70 * Math.cos((i / 40) * 2 * Math.PI) })),
      ],
    },
    longerSides: [20, 20],
  },
];

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { check: { type: 'boolean', default: false } } });

const made = CASES.map((c) => {
  const { pixels, count } = drawingToDigitImages(c.drawing);
  const images = Array.from({ length: count }, (_, i) => Uint8Array.from(pixels.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 255)));
  return { ...c, images };
});

let failed = false;
for (const c of made) {
  console.log(`\n${c.name}: ${c.shows}`);
  if (c.images.length !== c.longerSides.length) {
    console.log(`  FAIL: ${c.images.length} images, expected ${c.longerSides.length}`);
    failed = true;
  }
  c.images.forEach((image, i) => {
    const problems = framingProblems(image, c.longerSides[i]);
    for (const problem of problems) console.log(`  FAIL image ${i}: ${problem}`);
    failed ||= problems.length > 0;
    for (const row of preview(image)) console.log(`  |${row}|`);
  });
}
if (failed) {
  console.error('\nsome images fail MNIST framing: nothing written');
  process.exit(1);
}

const fixture = {
  about:
    'Drawings and the 28×28 images (bytes 0..255, two hex digits a pixel, one string a row) the server makes of them. ' +
    'Written by scripts/make-preprocess-fixtures.ts, checked there against MNIST framing (test/preprocess/mnist-framing.ts) and reviewed by eye (preview). ' +
    'Regenerate only when the preprocessing is meant to change.',
  cases: made.map((c) => ({ name: c.name, shows: c.shows, drawing: c.drawing, longerSides: c.longerSides, images: c.images.map((image) => ({ hex: toHexRows(image), preview: preview(image) })) })),
};
// One image row a line (a diff then shows which rows changed), one point a line.
const text = `${JSON.stringify(fixture, null, 2).replace(/\{\s+"x": (-?[\d.e+-]+),\s+"y": (-?[\d.e+-]+)\s+\}/g, '{ "x": $1, "y": $2 }')}\n`;

if (values.check) {
  const current = readFileSync(OUT, 'utf8');
  console.log(current === text ? '\nthe fixture matches' : '\nthe fixture differs from what the preprocessing now gives');
  process.exit(current === text ? 0 : 1);
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, text);
console.log(`\nwrote ${OUT}: ${made.length} drawings, ${made.reduce((n, c) => n + c.images.length, 0)} images`);
