/**
 * Rebuilds the embedded model (models/embedded/) from the data in ../shared/data, in one command:
 *
 *   bun scripts/train-embedded-model.ts [--out .tmp/embedded-model] [--workers 1] [--data ../shared/data]
 *     [--epochs 60] [--clean-epochs 10] [--pen-repeat 4] [--seed 42] [--arch lean] [--label-smoothing 0] [--teacher DIR]
 *
 * The `lean` arch, from random weights, on MNIST plus the pen-drawn digits of pendigits writers 1–20
 * rendered through the page's own preprocessing (each repeated --pen-repeat times an epoch), with
 * augmentation and a cosine learning-rate schedule, the last --clean-epochs epochs without augmentation;
 * then scored on the 10,000 MNIST test digits and on the 2,498 digits of writers 21–30, whom it never saw.
 * Copy <out>'s files over models/embedded/ to embed it. One thread by default: a run replays to the bit
 * (--workers N trains faster, on another trajectory).
 * --arch, --label-smoothing and --teacher (distillation) rebuild the other rows of the table in
 * docs/training.md ("The embedded model"), which did not make it into the recipe.
 *
 * Training is src/train/run.ts, as `stratus --role trainer` runs it; docs/training.md gives the run time.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadOnEngine } from '../src/model/load-on-engine.ts';
import { readModelDirectory } from '../src/model/model-source.ts';
import { argmax, PIXELS } from '../src/protocol/image.ts';
import { drawingToPixels } from '../src/preprocess/mnist-style.ts';
import { ARCHS, isArchName, type ArchName } from '../src/train/arch-names.ts';
import type { TrainEvent } from '../src/train/events.ts';
import type { LabelledPixels } from '../src/train/feedback.ts';
import { TRAIN_DEFAULTS, type TrainRecipe } from '../src/train/recipe.ts';
import { runTraining } from '../src/train/run.ts';
import { chooseTrainingBackend } from '../src/train/training-backend.ts';
import { loadPendigits, PENDIGITS_BOX, type PendigitsSample } from '../test/helpers/pendigits.ts';

const repo = resolve(import.meta.dir, '..');
const fail = (message: string): never => {
  console.error(message);
  process.exit(2);
};
function parseFlags(): Record<string, string> {
  try {
    return parseArgs({
      options: {
        out: { type: 'string', default: resolve(repo, '.tmp/embedded-model') },
        data: { type: 'string', default: resolve(repo, '../shared/data') },
        workers: { type: 'string', default: '1' },
        arch: { type: 'string', default: 'lean' },
        epochs: { type: 'string', default: '60' },
        'clean-epochs': { type: 'string', default: '10' },
        'pen-repeat': { type: 'string', default: '4' },
        'label-smoothing': { type: 'string', default: '0' },
        teacher: { type: 'string' },
        seed: { type: 'string', default: String(TRAIN_DEFAULTS.seed) },
      },
    }).values as Record<string, string>;
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}
const opts = parseFlags();
const whole = (name: string, min: number): number => {
  const n = Number(opts[name]);
  return Number.isInteger(n) && n >= min ? n : fail(`--${name} must be a whole number ≥ ${min}, got ${opts[name]}`);
};
const fraction = (name: string): number => {
  const x = Number(opts[name]);
  return x >= 0 && x < 1 ? x : fail(`--${name} must be a number in [0, 1), got ${opts[name]}`);
};
const arch: ArchName = isArchName(opts.arch!) ? opts.arch : fail(`--arch must be one of ${ARCHS.join(', ')}, got ${opts.arch}`);
const workers = whole('workers', 1);
const seed = whole('seed', 0);
const out = resolve(opts.out!);
/** Writers 1–20 train; 21–30 stay unseen, as bench/pendigits.ts and the browser suite measure on them. */
const TRAINING_WRITERS = 20;
const pen = loadPendigits(resolve(opts.data!, 'pendigits/pendigits-orig.tra'));
const penPixels = (sample: PendigitsSample) => drawingToPixels({ width: PENDIGITS_BOX, height: PENDIGITS_BOX, strokes: sample.strokes });
const feedback: LabelledPixels[] = pen.filter((s) => s.writer <= TRAINING_WRITERS).map((s) => ({ label: s.label, pixels: Array.from(penPixels(s)) }));
const unseen = pen.filter((s) => s.writer > TRAINING_WRITERS);

const { backend, fallbackReason } = await chooseTrainingBackend(null);
if (fallbackReason) console.warn(`training on tfjs wasm (${fallbackReason}): expect it to take several times longer`);

const started = performance.now();
const minutes = () => ((performance.now() - started) / 60_000).toFixed(1);
await train(arch, whole('epochs', 1), out);
console.log(`done in ${minutes()} min: the model to embed is ${out}`);

async function train(arch: ArchName, epochs: number, outDir: string): Promise<void> {
  const recipe: TrainRecipe = {
    mnistDir: resolve(opts.data!, 'mnist'),
    arch,
    backend,
    epochs,
    batchSize: TRAIN_DEFAULTS.batchSize,
    maxSamples: null,
    seed,
    learningRate: 0.002,
    lrDecay: 1,
    schedule: 'cosine',
    augment: true,
    cleanEpochs: whole('clean-epochs', 0),
    feedback,
    feedbackRepeat: whole('pen-repeat', 1),
    labelSmoothing: fraction('label-smoothing'),
    ...(opts.teacher === undefined ? {} : { teachers: [resolve(opts.teacher)] }),
    outDir,
    ...(workers > 1 ? { spread: { kind: 'worker-threads', workers, sync: 'gradients', syncEvery: 1 } } : {}),
  };
  console.log(`${arch}: ${epochs} epochs on MNIST and ${feedback.length} pen digits of writers 1-${TRAINING_WRITERS}, ${workers} worker(s)`);
  const result = await runTraining(recipe, {}, print);
  if (!result) throw new Error('the run ended without a model');
  console.log(`${result.version}: MNIST test ${percent(result.testAccuracy)}; pen digits of writers ${TRAINING_WRITERS + 1}-30: ${percent(await penAccuracy(outDir))}`);
}

/** The share of the unseen writers' digits the model reads right, on ONNX Runtime as the consumer serves. */
async function penAccuracy(dir: string): Promise<number> {
  const model = await loadOnEngine('onnx', await readModelDirectory(dir));
  try {
    const images = new Float32Array(unseen.length * PIXELS);
    unseen.forEach((sample, i) => images.set(penPixels(sample), i * PIXELS));
    const probabilities = await model.predict(images, unseen.length);
    const right = unseen.filter((sample, i) => argmax(probabilities, i * 10, 10) === sample.label).length;
    return right / unseen.length;
  } finally {
    await model.dispose();
  }
}

function percent(x: number): string {
  return `${(x * 100).toFixed(2)} %`;
}

function print(event: TrainEvent): void {
  if (event.kind === 'epoch') {
    console.log(`epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)}, validation ${percent(event.validationAccuracy)}, ${event.seconds.toFixed(1)} s (${minutes()} min)`);
  }
}
