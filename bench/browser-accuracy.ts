// How well the real page reads real handwriting: UCI pendigits trajectories replayed as mouse and pen
// input onto the drawing page in Chromium (Debian's, via playwright-core), Predict pressed, the answer
// read from #history. Everything a user's drawing goes through is in the loop: pad.js's point capture
// and smoothing, the JSON request, segmentation, preprocessing, the model.
//
//   bun run bench/browser-accuracy.ts [--limit 1000] [--numbers 200] [--seed 7] [--pointer mouse|pen|both] [--pages 2]
//                                     [--writers 21-30] [--gaps 0.1,0.45]
//
// Prints overall and per-digit accuracy on single digits, the worst confusions, and the fraction of
// 2–6-digit numbers (recorded digits side by side, --gaps apart as in bench/pendigits.ts) read whole. Targets: ≥ 97 % digits, ≥ 90 % numbers.
// Stratus runs as a child process (--store memory) so it does not share an event loop with the driver.
import { parseArgs } from 'node:util';
import type { Browser } from 'playwright-core';
import { launchChromium, openDrawingPage, SCREENSHOTS, startStratus, type OpenedPage } from '../test/helpers/browser.ts';
import type { Stroke } from '../src/preprocess/drawing.ts';
import { HELD_OUT_WRITERS, composeNumber, loadPendigits, parseGaps, seededRandom, spreadSample } from '../test/helpers/pendigits.ts';
import { parseWriterRange } from '../test/helpers/writer-range.ts';
import type { PointerKind } from '../test/helpers/pointer-replay.ts';

function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

let flags;
try {
  flags = parseArgs({
    options: {
      limit: { type: 'string', default: '1000' },
      numbers: { type: 'string', default: '200' },
      seed: { type: 'string', default: '7' },
      gaps: { type: 'string', default: '0.1,0.45' },
      pointer: { type: 'string', default: 'both' },
      pages: { type: 'string', default: '2' },
      writers: { type: 'string', default: HELD_OUT_WRITERS },
    },
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const count = (name: string, text: string) => {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0) fail(`--${name} must be a whole number ≥ 0`);
  return value;
};
const limit = count('limit', flags.limit);
const numberCount = count('numbers', flags.numbers);
const seed = count('seed', flags.seed);
const pageCount = count('pages', flags.pages);
if (pageCount < 1) fail('--pages must be at least 1');
let gaps: [number, number];
try {
  gaps = parseGaps(flags.gaps);
} catch (error) {
  fail((error as Error).message);
}
if (!['mouse', 'pen', 'both'].includes(flags.pointer)) fail('--pointer must be mouse, pen or both');
const pointerFor = (i: number): PointerKind => (flags.pointer === 'both' ? (i % 2 === 0 ? 'mouse' : 'pen') : (flags.pointer as PointerKind));

// The history list grows with every prediction and the page re-renders it; emptying it now and then
// keeps the 1,000th prediction as cheap as the first.
const CLEAR_HISTORY_EVERY = 50;
const MISS_SCREENSHOTS = 12;

const percent = (part: number, whole: number) => (whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(2)} %`);

interface Job {
  readonly kind: 'digit' | 'number';
  readonly expected: string;
  readonly strokes: Stroke[];
  readonly pointer: PointerKind;
}

// Digits spread over the whole file (every writer); numbers of 2–6 recorded digits side by side, seeded.
// Only writers the model never saw in training (--writers; default the held-out ones).
let writers: Set<number>;
try {
  writers = new Set(parseWriterRange(flags.writers as string));
} catch (error) {
  fail((error as Error).message);
}
const all = loadPendigits().filter((sample) => writers.has(sample.writer));
const jobs: Job[] = spreadSample(all, limit).map((sample, i) => ({
  kind: 'digit',
  expected: String(sample.label),
  strokes: sample.strokes,
  pointer: pointerFor(i),
}));
const random = seededRandom(seed);
for (let n = 0; n < numberCount; n++) {
  const length = 2 + Math.floor(random() * 5);
  const number = composeNumber(Array.from({ length }, () => all[Math.floor(random() * all.length)]!), random, gaps);
  jobs.push({ kind: 'number', expected: number.labels.join(''), strokes: number.drawing.strokes, pointer: pointerFor(n) });
}
const answers: string[] = new Array(jobs.length);
const progress = { done: 0 };

/** One page works through the shared queue; several pages overlap their round trips to the browser. */
async function worker(opened: OpenedPage, queue: { next: number }, misses: { count: number }): Promise<void> {
  const { drawing } = opened;
  let done = 0;
  for (let i = queue.next++; i < jobs.length; i = queue.next++) {
    const job = jobs[i]!;
    if (done > 0 && done % CLEAR_HISTORY_EVERY === 0) {
      await drawing.clearPredictions();
    }
    await drawing.press('Clear Canvas');
    await drawing.draw(job.strokes, job.pointer, { maxHeightFraction: job.kind === 'digit' ? 0.7 : 0.6 });
    answers[i] = await drawing.predict(15_000, { fast: true });
    done++;
    if (++progress.done % 100 === 0) console.error(`… ${progress.done}/${jobs.length}`);
    if (answers[i] !== job.expected && misses.count++ < MISS_SCREENSHOTS) {
      await drawing.screenshot(`bench-miss-${i}-${job.expected}-as-${answers[i] || 'nothing'}`);
    }
  }
}

const stratus = await startStratus('child');
let browser: Browser | undefined;
try {
  browser = await launchChromium();
  const pages = await Promise.all(
    Array.from({ length: pageCount }, () => openDrawingPage(browser!, stratus.url, { viewport: { width: 1280, height: 900 } })),
  );
  const pad = await pages[0]!.drawing.padSize();
  console.log(`Chromium ${browser.version()}, ${pageCount} pages, pad ${Math.round(pad.width)}×${Math.round(pad.height)} CSS px, pointer ${flags.pointer}`);
  const started = performance.now();
  const queue = { next: 0 };
  const misses = { count: 0 };
  await Promise.all(pages.map((opened) => worker(opened, queue, misses)));
  const seconds = (performance.now() - started) / 1000;
  console.log(`${jobs.length} drawings in ${seconds.toFixed(0)} s (${(jobs.length / seconds).toFixed(1)}/s)`);

  const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
  let digits = 0;
  let unreadable = 0;
  jobs.forEach((job, i) => {
    if (job.kind !== 'digit') return;
    digits++;
    const said = answers[i]!;
    if (/^\d$/.test(said)) confusion[Number(job.expected)]![Number(said)]!++;
    else unreadable++;
  });
  if (digits > 0) {
    const right = confusion.reduce((sum, row, d) => sum + row[d]!, 0);
    console.log(`single digits: ${right}/${digits} = ${percent(right, digits)} (target ≥ 97 %); ${unreadable} not read as one digit`);
    console.log(`per digit: ${confusion.map((row, d) => `${d}: ${percent(row[d]!, row.reduce((a, b) => a + b, 0))}`).join('  ')}`);
    const worst = confusion
      .flatMap((row, truth) => row.map((n, said) => ({ truth, said, n })))
      .filter((c) => c.truth !== c.said && c.n > 0)
      .sort((a, b) => b.n - a.n)
      .slice(0, 8);
    console.log(`worst confusions: ${worst.map((c) => `${c.truth}→${c.said} ×${c.n}`).join(', ') || 'none'}`);
  }

  const numbers = jobs.flatMap((job, i) => (job.kind === 'number' ? [{ expected: job.expected, said: answers[i]! }] : []));
  if (numbers.length > 0) {
    const whole = numbers.filter((n) => n.said === n.expected).length;
    const rightLength = numbers.filter((n) => n.said.length === n.expected.length).length;
    console.log(`numbers: ${whole}/${numbers.length} = ${percent(whole, numbers.length)} read whole (target ≥ 90 %); ${percent(rightLength, numbers.length)} split into the right number of digits; seed ${seed}, gaps ${gaps.join('–')} of the height`);
    const lengths = [...new Set(numbers.map((n) => n.expected.length))].sort((a, b) => a - b);
    console.log(
      `read whole by length: ${lengths
        .map((len) => {
          const of = numbers.filter((n) => n.expected.length === len);
          return `${len}: ${percent(of.filter((n) => n.said === n.expected).length, of.length)} of ${of.length}`;
        })
        .join('  ')}`,
    );
  }
  const problems = (await Promise.all(pages.map((opened) => opened.allProblems()))).flat();
  if (problems.length > 0) console.log(`page problems: ${[...new Set(problems)].join(' | ')}`);
  if (misses.count > 0) console.log(`screenshots of the first ${Math.min(misses.count, MISS_SCREENSHOTS)} misreads: ${SCREENSHOTS}/bench-miss-*.png`);
} finally {
  await browser?.close();
  await stratus.stop();
}
