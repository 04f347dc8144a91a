/**
 * Stores real pen-drawn digits as feedback samples, so `stratus --role trainer --include-feedback`
 * learns from them as from users' answers on the page:
 *
 *   bun scripts/import-pendigits-feedback.ts --writers 1-20 --data-dir DIR [--pendigits FILE]
 *   ./stratus --role trainer --include-feedback --data-dir DIR --mnist-dir ../shared/data/mnist --out M
 *
 * Each digit of the chosen writers (UCI pendigits trajectories) goes through the page's own
 * preprocessing (drawingToPixels), so the pixels are what the model would see had the writer drawn it on
 * the page. They go into the local store under DIR/store (the layout `--data-dir DIR` uses); importing
 * again replaces them (one id per digit). Keep some writers out (21-30 by convention): bench/pendigits.ts
 * --writers 21-30 measures on them.
 */
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { PouchStore } from '../src/adapters/store/pouch-store.ts';
import { drawingToPixels } from '../src/preprocess/mnist-style.ts';
import { loadPendigits, PENDIGITS_BOX, PENDIGITS_FILE } from '../test/helpers/pendigits.ts';
import { parseWriterRange } from '../test/helpers/writer-range.ts';

/** Marks the samples as imported, not answered on the page: no model predicted them. */
const SOURCE_VERSION = 'pendigits-import';

let values: { writers?: string; 'data-dir'?: string; pendigits?: string };
let writers: number[];
try {
  ({ values } = parseArgs({ options: { writers: { type: 'string' }, 'data-dir': { type: 'string' }, pendigits: { type: 'string' } } }));
  if (values.writers === undefined || values['data-dir'] === undefined) throw new Error('usage: --writers 1-20 --data-dir DIR [--pendigits FILE]');
  writers = parseWriterRange(values.writers);
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}

const wanted = new Set(writers);
const samples = loadPendigits(values.pendigits === undefined ? PENDIGITS_FILE : resolve(values.pendigits)).filter((s) => wanted.has(s.writer));
const store = new PouchStore({ adapter: 'leveldb', directory: join(resolve(values['data-dir']), 'store') });
await store.open();
const started = performance.now();
const perWriter = new Map<number, number>();
try {
  const createdAt = new Date().toISOString();
  for (const sample of samples) {
    const index = perWriter.get(sample.writer) ?? 0;
    perWriter.set(sample.writer, index + 1);
    const requestId = `pendigits-w${sample.writer}-${index}`;
    const pixels = drawingToPixels({ width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: sample.strokes });
    await store.saveFeedback({
      requestId,
      label: sample.label,
      // No model answered: -1 keeps these apart from real feedback, whose `predicted` is a digit.
      predicted: -1,
      modelVersion: SOURCE_VERSION,
      pixels: Array.from(pixels),
      createdAt,
      // The operator's own import: trained on without a review (page feedback waits for one).
      state: 'accepted',
    });
  }
} finally {
  await store.close();
}
console.log(
  `stored ${samples.length} pendigits digits of writers ${values.writers} (${perWriter.size} writers) as feedback in ${join(values['data-dir'], 'store')} ` +
    `in ${((performance.now() - started) / 1000).toFixed(1)} s`,
);
