// What `--augment` costs: the distortion alone per batch, and training steps with and without it.
//
//   bun run bench/augment.ts [--arch seed|default] [--steps 40] [--rounds 5] [--batch-size 64] [--mnist DIR]
//
// Steps alternate between plain and augmented rounds (after a warm-up) so that a neighbour taking the
// shared CPU slows both alike; CPU seconds of this process are printed beside wall time because they
// are the steadier figure on a shared machine.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from '../src/model/wasm-backend.ts';
import { buildModel, isArchName } from '../src/train/architectures.ts';
import { augmentImages } from '../src/train/augment.ts';
import { loadSplit } from '../src/train/mnist.ts';
import { tfjsGradients } from '../src/train/gradient-source.ts';
import { optimizerStep } from '../src/train/optimizer-step.ts';
import { range, seededRandom } from '../src/train/random.ts';
import { trainSteps } from '../src/train/step-loop.ts';
import { registerWasmTrainingKernels } from '../src/train/wasm-kernels.ts';

const { values: flags } = parseArgs({
  options: {
    arch: { type: 'string', default: 'default' },
    steps: { type: 'string', default: '40' },
    rounds: { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '64' },
    mnist: { type: 'string', default: resolve(import.meta.dir, '../../shared/data/mnist') },
  },
});
const arch = flags.arch!;
if (!isArchName(arch)) throw new Error(`--arch must be seed or default, got ${arch}`);
const steps = Number(flags.steps);
const rounds = Number(flags.rounds);
const batchSize = Number(flags['batch-size']);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const split = loadSplit(flags.mnist!, 'train');

// 1. The distortion alone.
{
  const pixels = split.images.slice(0, batchSize * 784);
  const random = seededRandom(1);
  for (let i = 0; i < 50; i++) augmentImages(pixels, batchSize, random);
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t = performance.now();
    augmentImages(pixels, batchSize, random);
    times.push(performance.now() - t);
  }
  const ms = median(times);
  console.log(`augmentImages: ${ms.toFixed(3)} ms per batch of ${batchSize} (${Math.round((batchSize / ms) * 1000)} images/s)`);
}

// 2. Training steps, plain and augmented, interleaved.
await initWasmBackend();
registerWasmTrainingKernels();
const model = buildModel(arch, 42);
const optimizer = tf.train.adam(0.001);
const indices = range(steps * batchSize);
const random = seededRandom(2);
const augment = (pixels: Float32Array, count: number) => augmentImages(pixels, count, random);
const step = optimizerStep(optimizer, tfjsGradients(model, optimizer));
await trainSteps(split, indices.slice(0, batchSize * 5), batchSize, step, { augment });

const measured = { plain: { wall: [] as number[], cpu: [] as number[] }, augmented: { wall: [] as number[], cpu: [] as number[] } };
for (let round = 0; round < rounds; round++) {
  for (const kind of ['plain', 'augmented'] as const) {
    const t = performance.now();
    const c = process.cpuUsage();
    await trainSteps(split, indices, batchSize, step, kind === 'augmented' ? { augment } : {});
    const used = process.cpuUsage(c);
    measured[kind].wall.push((performance.now() - t) / steps);
    measured[kind].cpu.push((used.user + used.system) / 1000 / steps);
  }
}
console.log(`arch ${arch}, batch ${batchSize}, ${rounds} rounds of ${steps} steps each (median per step):`);
for (const kind of ['plain', 'augmented'] as const) {
  const wall = median(measured[kind].wall);
  const cpu = median(measured[kind].cpu);
  console.log(`  ${kind.padEnd(9)} ${wall.toFixed(2)} ms wall (${Math.round((batchSize / wall) * 1000)} samples/s), ${cpu.toFixed(2)} ms CPU`);
}
const cost = (key: 'wall' | 'cpu') => ((median(measured.augmented[key]) / median(measured.plain[key]) - 1) * 100).toFixed(1);
console.log(`  augmentation cost: ${cost('wall')} % wall, ${cost('cpu')} % CPU per step`);
optimizer.dispose();
model.dispose();
