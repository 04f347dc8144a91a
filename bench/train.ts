// Training speed on the tfjs wasm backend, with the trainer's own epoch code.
//
//   bun run bench/train.ts [--arch seed|default] [--epochs N] [--max-samples N] [--batch-size 64]
//                          [--profile] [--steps 30] [--mnist DIR]
//
// Same split, seeds, learning-rate schedule and step loop (trainSteps) as a one-thread run of src/train/run.ts;
// the test set is scored after every epoch (outside the timed part) so the run can say how many
// training seconds it took to reach 99.0 %. --profile skips the run and instead times the kernels
// of --steps training steps (after a warm-up) in CPU time, grouped by kernel name and by kernel +
// input shapes, against the CPU time of a whole step, so the framework's own share shows too.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initWasmBackend } from '../src/model/wasm-backend.ts';
import { buildModel, isArchName } from '../src/train/architectures.ts';
import { splitTrainingData } from '../src/train/data-split.ts';
import { fastAdam, setLearningRate } from '../src/train/fast-adam.ts';
import { tfjsGradients } from '../src/train/gradient-source.ts';
import { optimizerStep } from '../src/train/optimizer-step.ts';
import { shuffle } from '../src/train/random.ts';
import { TRAIN_DEFAULTS } from '../src/train/recipe.ts';
import { scoreSplit } from '../src/train/scoring.ts';
import { trainSteps } from '../src/train/step-loop.ts';
import { registerWasmTrainingKernels } from '../src/train/wasm-kernels.ts';
import { benchFlagErrors, type BenchFlagErrors } from './cli-errors.ts';

const REPO = resolve(import.meta.dir, '..');
const { values: flags } = parseArgs({
  options: {
    arch: { type: 'string', default: 'seed' },
    epochs: { type: 'string', default: '1' },
    'max-samples': { type: 'string' },
    'batch-size': { type: 'string', default: String(TRAIN_DEFAULTS.batchSize) },
    profile: { type: 'boolean', default: false },
    steps: { type: 'string', default: '30' },
    mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
  },
});

const flagErrors = benchFlagErrors('bench/train');
// Annotated, so that `if (!check) fail(…)` narrows like a declared function returning never.
const fail: BenchFlagErrors['fail'] = flagErrors.fail;
const positive = flagErrors.positive;
const arch = flags.arch!;
if (!isArchName(arch)) fail(`--arch must be seed or default, got ${arch}`);
const epochs = positive('epochs', flags.epochs);
const batchSize = positive('batch-size', flags['batch-size']);
const maxSamples = flags['max-samples'] === undefined ? null : positive('max-samples', flags['max-samples']);
const steps = positive('steps', flags.steps);

await initWasmBackend();
registerWasmTrainingKernels();
const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
const threads = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
console.log(`backend ${tf.getBackend()}  simd ${simd}  threads ${threads}  bun ${Bun.version}  arch ${arch}  batch ${batchSize}`);

// The split of every training run: a seeded shuffle, the first 10 % held out for validation.
const { seed, learningRate, lrDecay } = TRAIN_DEFAULTS;
const { data, random, trainIndices, testIndices } = splitTrainingData({ mnistDir: flags.mnist!, seed, maxSamples });

const model = buildModel(arch, seed);
const optimizer = fastAdam(learningRate);
const step = optimizerStep(optimizer, tfjsGradients(model, optimizer));
/** One pass over `indices` without progress figures (no argMax per step); returns the mean loss. */
const trainOn = async (indices: Uint32Array) => {
  const sums = await trainSteps(data.train, indices, batchSize, step);
  return sums.lossSum / Math.max(1, sums.steps);
};

if (flags.profile) await profile();
else await run();
optimizer.dispose();
model.dispose();

async function run(): Promise<void> {
  let trainSeconds = 0;
  let reached: number | null = null;
  const wallStarted = performance.now();
  for (let epoch = 0; epoch < epochs; epoch++) {
    setLearningRate(optimizer, learningRate * lrDecay ** epoch);
    shuffle(trainIndices, random);
    const started = performance.now();
    const cpuStarted = process.cpuUsage();
    const loss = await trainOn(trainIndices);
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    trainSeconds += seconds;
    const test = scoreSplit(model, data.test, testIndices).accuracy;
    if (reached === null && test >= 0.99) reached = trainSeconds;
    console.log(`epoch ${epoch + 1}/${epochs}  ${trainIndices.length} samples  ${seconds.toFixed(1)} s  `
      + `${Math.round(trainIndices.length / seconds)} samples/s (${Math.round(trainIndices.length / cpuSeconds)} per CPU-second)  `
      + `loss ${loss.toFixed(4)}  test ${(test * 100).toFixed(2)} %`);
  }
  const wall = (performance.now() - wallStarted) / 1000;
  const samplesPerSecond = Math.round((trainIndices.length * epochs) / trainSeconds);
  console.log(`total: training ${trainSeconds.toFixed(1)} s (${samplesPerSecond} samples/s), wall ${wall.toFixed(1)} s with test scoring`);
  console.log(reached === null ? 'test accuracy 99.0 %: not reached' : `test accuracy 99.0 %: reached after ${reached.toFixed(1)} s of training`);
}

/**
 * Wraps every registered wasm kernel with a timer for the duration of `action`. CPU time (getrusage
 * via process.cpuUsage) rather than tf.profile's wall time: the machine is shared, and a kernel's
 * wall time there includes however long other processes held the core.
 */
async function timeKernels(action: () => Promise<void>): Promise<Map<string, { ms: number; calls: number }>> {
  const times = new Map<string, { ms: number; calls: number }>();
  const originals = tf.getKernelsForBackend('wasm');
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  for (const k of originals) {
    tf.unregisterKernel(k.kernelName, 'wasm');
    const inner = k.kernelFunc;
    tf.registerKernel({
      ...k,
      kernelFunc: ((args: Parameters<tf.KernelFunc>[0]) => {
        const t = cpuMs();
        const out = inner(args);
        const shapes = Object.values(args.inputs).map((i) => (i ? `[${(i as tf.TensorInfo).shape}]` : '-')).join(' ');
        add(times, `${k.kernelName} ${shapes}`, cpuMs() - t);
        return out;
      }) as tf.KernelFunc,
    });
  }
  try {
    await action();
  } finally {
    for (const k of originals) {
      tf.unregisterKernel(k.kernelName, 'wasm');
      tf.registerKernel(k);
    }
  }
  return times;
}

async function profile(): Promise<void> {
  const warmup = trainIndices.slice(0, batchSize * 5);
  const timed = trainIndices.slice(0, batchSize * steps);
  await trainOn(warmup);
  // CPU time as well as wall time: on a shared machine the process's own CPU time is the steadier
  // figure (wall time also counts the time other processes held the core).
  const plain: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    await trainOn(timed);
    const used = process.cpuUsage(c);
    plain.push((performance.now() - t) / steps);
    cpu.push((used.user + used.system) / 1000 / steps);
  }
  const stepMs = median(plain);
  const cpuMs = median(cpu);
  const byShape = await timeKernels(() => trainOn(timed).then(() => undefined));
  const byName = new Map<string, { ms: number; calls: number }>();
  let kernelMs = 0;
  let calls = 0;
  for (const [key, e] of byShape) {
    kernelMs += e.ms;
    calls += e.calls;
    const name = key.split(' ')[0]!;
    const n = byName.get(name) ?? { ms: 0, calls: 0 };
    byName.set(name, { ms: n.ms + e.ms, calls: n.calls + e.calls });
  }
  console.log(`step (batch ${batchSize}): ${stepMs.toFixed(2)} ms wall, ${cpuMs.toFixed(2)} ms CPU (medians of 5×${steps} steps) = `
    + `${Math.round((batchSize * 1000) / stepMs)} samples/s wall, ${Math.round((batchSize * 1000) / cpuMs)} per CPU-second`);
  console.log(`kernels: ${(kernelMs / steps).toFixed(2)} ms CPU/step in ${calls / steps} calls; outside kernels `
    + `(engine, tape, batching, JS): ${(cpuMs - kernelMs / steps).toFixed(2)} ms CPU/step`);
  printTable('by kernel', byName, cpuMs, 40);
  printTable('by kernel and input shapes', byShape, cpuMs, 25);
}

function add(map: Map<string, { ms: number; calls: number }>, key: string, ms: number): void {
  const e = map.get(key) ?? { ms: 0, calls: 0 };
  e.ms += ms;
  e.calls++;
  map.set(key, e);
}

function printTable(title: string, map: Map<string, { ms: number; calls: number }>, stepMs: number, limit: number): void {
  console.log(`\n${title} (CPU ms per step; % of the step's CPU time)`);
  const rows = [...map].sort((a, b) => b[1].ms - a[1].ms).slice(0, limit);
  for (const [key, { ms, calls }] of rows) {
    const per = ms / steps;
    console.log(`${per.toFixed(3).padStart(9)} ms ${((per / stepMs) * 100).toFixed(1).padStart(5)} %  ${String(calls / steps).padStart(4)}×  ${key}`);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}
