// How well drawn digits are read: real pen trajectories (UCI pendigits) rendered through the same
// preprocessing as the page's drawings, classified by a model on the wasm backend.
//
//   bun run bench/pendigits.ts [--limit 2000] [--model DIR] [--numbers 500] [--seed 7] [--gaps 0.1,0.45] [--writers 21-30]
//
// --writers keeps only those writers' digits (1–30; e.g. the ones scripts/import-pendigits-feedback.ts
// left out of training), for single digits and numbers alike; with it, --limit defaults to all of them.
// Prints accuracy on single digits (overall, per digit, the most frequent confusions), then builds
// --numbers multi-digit numbers (2–6 recorded digits side by side, seeded; --gaps between digits as
// fractions of their height, negative for digits that overlap) and prints the fraction segmented into the
// right digits and the fraction read whole, with and without the classifier's choice between splits.
// Targets: ≥ 97 % digits, ≥ 90 % numbers.
import { parseArgs } from 'node:util';
import { Classifier } from '../src/model/classifier.ts';
import { chooseSplit } from '../src/model/split-choice.ts';
import { ModelNotFoundError, readEmbeddedModel, readModelDirectory } from '../src/model/model-source.ts';
import { argmax, PIXELS } from '../src/protocol/image.ts';
import { initWasmBackend } from '../src/model/wasm-backend.ts';
import type { Drawing } from '../src/preprocess/drawing.ts';
import { drawingToPixels } from '../src/preprocess/mnist-style.ts';
import { drawingToDigitImages } from '../src/preprocess/digit-images.ts';
import { composeNumber, loadPendigits, parseGaps, PENDIGITS_BOX, seededRandom, spreadSample } from '../test/helpers/pendigits.ts';
import { parseWriterRange } from '../test/helpers/writer-range.ts';

const options = {
  limit: { type: 'string' },
  writers: { type: 'string' },
  model: { type: 'string' },
  numbers: { type: 'string', default: '500' },
  seed: { type: 'string', default: '7' },
  gaps: { type: 'string', default: '0.1,0.45' },
} as const;
let parsed: ReturnType<typeof parseArgs<{ options: typeof options }>>;
try {
  parsed = parseArgs({ options });
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const flags = parsed.values;
let chosenWriters: Set<number> | null = null;
try {
  chosenWriters = flags.writers === undefined ? null : new Set(parseWriterRange(flags.writers));
} catch (error) {
  console.error(error instanceof Error ? error.message : String(error));
  process.exit(2);
}
const limit = Number(flags.limit ?? (chosenWriters === null ? 2000 : Number.MAX_SAFE_INTEGER));
const numberCount = Number(flags.numbers);
const seed = Number(flags.seed);
let gaps: [number, number];
try {
  gaps = parseGaps(flags.gaps);
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
for (const [name, value] of [['--limit', limit], ['--numbers', numberCount], ['--seed', seed]] as const) {
  if (!Number.isInteger(value) || value < 0) {
    console.error(`${name} must be a whole number ≥ 0`);
    process.exit(2);
  }
}

await initWasmBackend();
const source = await (flags.model === undefined ? readEmbeddedModel() : readModelDirectory(flags.model)).catch((error: unknown) => {
  console.error(error instanceof ModelNotFoundError ? error.message : `cannot read the model: ${String(error)}`);
  process.exit(2);
});
const classifier = await Classifier.load(source);

function classify(drawings: readonly Drawing[]): number[] {
  const images = new Float32Array(drawings.length * PIXELS);
  drawings.forEach((drawing, i) => images.set(drawingToPixels(drawing), i * PIXELS));
  const answers: number[] = [];
  const batch = 256;
  for (let start = 0; start < drawings.length; start += batch) {
    const count = Math.min(batch, drawings.length - start);
    const probabilities = classifier.predict(images.subarray(start * PIXELS, (start + count) * PIXELS), count);
    for (let i = 0; i < count; i++) answers.push(argmax(probabilities, i * 10, 10));
  }
  return answers;
}

const all = loadPendigits().filter((s) => chosenWriters === null || chosenWriters.has(s.writer));
const samples = spreadSample(all, limit);
const drawings = samples.map((s) => ({ width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: s.strokes }));
const started = performance.now();
for (const drawing of drawings) drawingToPixels(drawing);
const preprocessMs = (performance.now() - started) / Math.max(1, drawings.length);
const answers = classify(drawings);

const confusion = Array.from({ length: 10 }, () => new Array<number>(10).fill(0));
samples.forEach((s, i) => {
  const row = confusion[s.label] as number[];
  const said = answers[i] as number;
  row[said] = (row[said] as number) + 1;
});
const correct = samples.filter((s, i) => answers[i] === s.label).length;
const whose = flags.writers === undefined ? '' : ` of writers ${flags.writers}`;
console.log(`model ${classifier.version}; ${samples.length} pendigits digits${whose}; drawingToPixels ${preprocessMs.toFixed(2)} ms each`);
console.log(`single digits: ${percent(correct, samples.length)} correct (target ≥ 97 %)`);
console.log(
  'per digit:     ' +
    confusion.map((row, digit) => `${digit}: ${percent(row[digit] as number, row.reduce((a, b) => a + b, 0))}`).join('  '),
);
const pairs = confusion
  .flatMap((row, truth) => row.map((count, said) => ({ truth, said, count })))
  .filter((p) => p.truth !== p.said && p.count > 0)
  .sort((a, b) => b.count - a.count)
  .slice(0, 8);
const byWriter = new Map<number, { right: number; total: number }>();
samples.forEach((s, i) => {
  const tally = byWriter.get(s.writer) ?? { right: 0, total: 0 };
  tally.total++;
  if (answers[i] === s.label) tally.right++;
  byWriter.set(s.writer, tally);
});
const writers = [...byWriter.entries()].sort((a, b) => a[1].right / a[1].total - b[1].right / b[1].total);
console.log('worst writers:    ' + writers.slice(0, 6).map(([w, t]) => `#${w} ${percent(t.right, t.total)}`).join(', ') + `; best: ${percent(writers.at(-1)?.[1].right ?? 0, writers.at(-1)?.[1].total ?? 0)}`);
console.log('worst confusions: ' + pairs.map((p) => `${p.truth}→${p.said} ×${p.count}`).join(', '));

// Numbers: digits drawn from the whole file (or --writers' digits), so a number mixes writers as a test set would not; the
// point here is segmentation, and single-digit accuracy is already measured above. Each number goes the
// way a drawing does: the gateway's images (its split, and alternative splits where a piece may be several
// digits), classified together, and the reading chosen as the consumer chooses it.
const random = seededRandom(seed);
const tally = { splitRight: 0, chosenSplitRight: 0, readWhole: 0, primaryReadWhole: 0, overSplit: 0, underSplit: 0, alternatives: 0, extraImages: 0 };
let digitsInNumbers = 0;
let imagesMs = 0;
let chanceOfWhole = 0;
const digitAccuracy = correct / Math.max(1, samples.length);
const readDigits = (probabilities: Float32Array, images: readonly number[]) => images.map((image) => argmax(probabilities, image * 10, 10)).join('');
for (let n = 0; n < numberCount; n++) {
  const length = 2 + Math.floor(random() * 5);
  const digits = Array.from({ length }, () => all[Math.floor(random() * all.length)] as (typeof all)[number]);
  const { labels, drawing } = composeNumber(digits, random, gaps);
  const expected = labels.join('');
  digitsInNumbers += length;
  chanceOfWhole += digitAccuracy ** length;
  const t = performance.now();
  const images = drawingToDigitImages(drawing);
  imagesMs += performance.now() - t;
  const primary = images.split?.primary ?? images.count;
  const probabilities = classifier.predict(images.pixels, images.count);
  const choice = chooseSplit(probabilities, primary, images.split?.alternatives ?? []);
  tally.alternatives += images.split?.alternatives.length ?? 0;
  tally.extraImages += images.count - primary;
  if (primary > length) tally.overSplit++;
  if (primary < length) tally.underSplit++;
  if (primary === length) tally.splitRight++;
  if (choice.images.length === length) tally.chosenSplitRight++;
  if (readDigits(probabilities, Array.from({ length: primary }, (_, i) => i)) === expected) tally.primaryReadWhole++;
  if (readDigits(probabilities, choice.images) === expected) tally.readWhole++;
}
if (numberCount > 0) {
  const gapText = `gaps ${gaps[0]}–${gaps[1]} of the height`;
  console.log(`numbers: ${numberCount} of 2–6 digits (${(digitsInNumbers / numberCount).toFixed(1)} on average), seed ${seed}, ${gapText}, drawingToDigitImages ${(imagesMs / numberCount).toFixed(2)} ms each`);
  console.log(`  segmented into the right digits: ${percent(tally.splitRight, numberCount)} by geometry (too many parts: ${tally.overSplit}, too few: ${tally.underSplit}); ${percent(tally.chosenSplitRight, numberCount)} after the classifier's choice`);
  console.log(`  alternative splits: ${(tally.alternatives / numberCount).toFixed(2)} a number, ${(tally.extraImages / numberCount).toFixed(2)} extra images a number`);
  console.log(`  read whole: ${percent(tally.readWhole, numberCount)} (target ≥ 90 %; ${percent(tally.primaryReadWhole, numberCount)} without the choice); expected from the single-digit rate alone: ${percent(chanceOfWhole, numberCount)}`);
}
classifier.dispose();

function percent(part: number, whole: number): string {
  return whole === 0 ? 'n/a' : `${((100 * part) / whole).toFixed(2)} %`;
}
