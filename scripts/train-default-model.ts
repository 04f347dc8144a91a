/**
 * Trains a digit model (gradients on ONNX Runtime where it loads, as the trainer does; else tfjs on wasm)
 * and writes it as a tfjs layers model, and in ONNX:
 *   <out>/model.json, <out>/weights.bin, <out>/model.onnx, <out>/metadata.json, <out>/report.json
 *
 *   bun scripts/train-default-model.ts [--arch default|seed] [--epochs 6] [--batch-size 64]
 *     [--max-samples N] [--lr 0.001] [--lr-decay 0.7] [--seed 42] [--data ../shared/data/mnist] [--out .tmp/mnist-model]
 *
 * The training itself is src/train/run.ts (on this thread), which `stratus --role trainer` runs too.
 */
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ARCHS, isArchName } from '../src/train/arch-names.ts';
import type { TrainEvent } from '../src/train/events.ts';
import { TRAIN_DEFAULTS } from '../src/train/recipe.ts';
import { runTraining } from '../src/train/run.ts';
import { chooseTrainingBackend } from '../src/train/training-backend.ts';

const repo = resolve(import.meta.dir, '..');
const { values: opts } = parseArgs({
  options: {
    arch: { type: 'string', default: 'default' },
    epochs: { type: 'string', default: String(TRAIN_DEFAULTS.epochs) },
    'batch-size': { type: 'string', default: String(TRAIN_DEFAULTS.batchSize) },
    'max-samples': { type: 'string' },
    lr: { type: 'string', default: String(TRAIN_DEFAULTS.learningRate) },
    'lr-decay': { type: 'string', default: String(TRAIN_DEFAULTS.lrDecay) },
    seed: { type: 'string', default: String(TRAIN_DEFAULTS.seed) },
    data: { type: 'string', default: resolve(repo, '../shared/data/mnist') },
    out: { type: 'string', default: resolve(repo, '.tmp/mnist-model') },
  },
});
const arch = opts.arch;
if (!isArchName(arch)) throw new Error(`--arch must be one of ${ARCHS.join(', ')}, got ${arch}`);
const num = (name: string, v: string | undefined): number => {
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a positive number, got ${v}`);
  return n;
};

const percent = (x: number) => `${(x * 100).toFixed(2)}%`;
function print(event: TrainEvent): void {
  switch (event.kind) {
    case 'start':
      return console.log(`training ${event.arch} (${event.params} params) on ${event.trainSamples} samples (val ${event.validationSamples}), ${event.epochs} epochs, batch ${event.batchSize}`);
    case 'epoch':
      return console.log(`epoch ${event.epoch}/${event.epochs}: loss ${event.loss.toFixed(4)}, val acc ${percent(event.validationAccuracy)}, ` +
        `${event.seconds.toFixed(1)} s, ${event.samplesPerSecond} samples/s`);
    case 'tested':
      return console.log(`test accuracy ${percent(event.testAccuracy)} after ${event.trainingSeconds.toFixed(0)} s`);
    case 'saved':
      console.log(`inference (median, wasm): batch 1 ${event.inferenceMs.batch1.toFixed(2)} ms, batch 64 ${event.inferenceMs.batch64.toFixed(2)} ms`);
      if (event.onnxSkipped) console.warn(`no model.onnx: ${event.onnxSkipped}`);
      return console.log(`wrote ${event.outDir} (${event.weightsBytes} bytes of weights)`);
  }
}

const { backend, fallbackReason } = await chooseTrainingBackend(null);
if (fallbackReason) console.warn(`training on tfjs wasm: ${fallbackReason}`);
await runTraining(
  {
    mnistDir: opts.data,
    arch,
    backend,
    epochs: num('epochs', opts.epochs),
    batchSize: num('batch-size', opts['batch-size']),
    maxSamples: opts['max-samples'] === undefined ? null : num('max-samples', opts['max-samples']),
    seed: num('seed', opts.seed),
    learningRate: num('lr', opts.lr),
    lrDecay: num('lr-decay', opts['lr-decay']),
    outDir: opts.out,
  },
  {},
  print,
);
