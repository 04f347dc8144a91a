// Data-parallel training on one machine: the seed recipe with N worker threads against 1.
//
//   bun run bench/dist-train.ts [--workers 1,2] [--epochs 10] [--max-samples N] [--batch-size 64]
//                               [--sync gradients|weights] [--sync-every 8] [--arch seed] [--mnist DIR]
//                               [--backend onnx|wasm]
//
// Each N runs runTraining() from src/train/run.ts (N = 1: on this thread; N > 1: the worker threads of
// src/train/parallel/), start to model written. Prints per epoch the cumulative training
// seconds and validation accuracy (convergence per second, to compare --sync modes), then per N: wall
// time, training time, samples/s, scaling efficiency against N = 1 (samples/s ÷ (N × samples/s at 1))
// and the final test accuracy. The batch size is per worker step. The machine is shared: the load
// average is printed before and after, read the figures with it.
//
// --kafka: also N = 2 processes (`--role trainer --transport kafka --rank R --world-size 2`, the
// distributed trainer of src/train/distributed/) over the broker in KAFKA_BROKERS (or --brokers), e.g.
//   eval "$(STRATUS_SERVICES_DIR=$PWD/.tmp/svc bash ops/dev/services up)"
//   bun run bench/dist-train.ts --kafka --max-samples 6000 --epochs 1
// Its CPU column is the processes' whole CPU time (startup, MNIST, scoring included), the threads' only
// their epochs': compare the threads' rows with each other, and the processes' wall and samples/s.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isArchName } from '../src/train/architectures.ts';
import type { WorkerBackend } from '../src/train/backend-names.ts';
import { SYNC_MODES, type SyncMode } from '../src/train/parallel/sync-modes.ts';
import type { TrainEvent } from '../src/train/events.ts';
import { TRAIN_DEFAULTS } from '../src/train/recipe.ts';
import type { TrainResult } from '../src/train/run-records.ts';
import { runTraining } from '../src/train/run.ts';
import { runProcesses } from './dist-train-processes.ts';
import { benchFlagErrors, type BenchFlagErrors } from './cli-errors.ts';

const REPO = resolve(import.meta.dir, '..');
const { values: flags } = parseArgs({
  options: {
    workers: { type: 'string', default: '1,2' },
    epochs: { type: 'string', default: '10' },
    'max-samples': { type: 'string' },
    'batch-size': { type: 'string', default: '64' },
    sync: { type: 'string', default: 'gradients' },
    'sync-every': { type: 'string', default: '8' },
    arch: { type: 'string', default: 'seed' },
    // The trainer's default where ONNX Runtime loads; wasm is the fallback.
    backend: { type: 'string', default: 'onnx' },
    mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
    kafka: { type: 'boolean', default: false },
    brokers: { type: 'string', default: process.env.KAFKA_BROKERS ?? process.env.STRATUS_KAFKA_BROKERS ?? '' },
  },
});

const flagErrors = benchFlagErrors('bench/dist-train');
// Annotated, so that `if (!check) fail(…)` narrows like a declared function returning never.
const fail: BenchFlagErrors['fail'] = flagErrors.fail;
const positive = flagErrors.positive;
const arch = flags.arch!;
if (!isArchName(arch)) fail(`--arch must be seed or default, got ${arch}`);
const backend = flags.backend as WorkerBackend;
if (backend !== 'onnx' && backend !== 'wasm') fail(`--backend must be onnx or wasm, got ${flags.backend}`);
const sync = flags.sync as SyncMode;
if (!SYNC_MODES.includes(sync)) fail(`--sync must be ${SYNC_MODES.join(' or ')}, got ${flags.sync}`);
const workerCounts = flags.workers!.split(',').map((n) => positive('workers', n));
const epochs = positive('epochs', flags.epochs);
const batchSize = positive('batch-size', flags['batch-size']);
const syncEvery = positive('sync-every', flags['sync-every']);
const maxSamples = flags['max-samples'] === undefined ? null : positive('max-samples', flags['max-samples']);

if (flags.kafka && !flags.brokers) fail('--kafka needs a broker: KAFKA_BROKERS or --brokers (see `bash ops/dev/services up`)');

const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
console.log(`${cpus().length} cores, load average ${load()}  bun ${Bun.version}  arch ${arch}  backend ${backend}  epochs ${epochs}  batch ${batchSize}/worker step  `
  + `samples ${maxSamples ?? 'all'}  sync ${sync}${sync === 'weights' ? ` every ${syncEvery}` : ''}`);

interface Row { workers: number; wall: number; result: TrainResult; epochsCpu: number; label?: string }
const rows: Row[] = [];
for (const workers of workerCounts) {
  const outDir = mkdtempSync(join(tmpdir(), 'stratus-dist-bench-'));
  let trainedSeconds = 0;
  let cpuAtStart = process.cpuUsage();
  let epochsCpu = 0;
  const log = (event: TrainEvent) => {
    if (event.kind === 'start') cpuAtStart = process.cpuUsage();
    if (event.kind !== 'epoch') return;
    const used = process.cpuUsage(cpuAtStart);
    epochsCpu = (used.user + used.system) / 1e6;
    trainedSeconds += event.seconds;
    console.log(`  N=${workers} epoch ${event.epoch}/${event.epochs}  ${trainedSeconds.toFixed(1)} s trained  `
      + `${event.samplesPerSecond} samples/s  loss ${event.loss.toFixed(4)}  validation ${(event.validationAccuracy * 100).toFixed(2)} %`);
  };
  const started = performance.now();
  try {
    const result = await runTraining({
      mnistDir: flags.mnist!,
      arch,
      backend,
      epochs,
      batchSize,
      maxSamples,
      seed: TRAIN_DEFAULTS.seed,
      learningRate: TRAIN_DEFAULTS.learningRate,
      lrDecay: TRAIN_DEFAULTS.lrDecay,
      outDir,
      spread: workers > 1 ? { kind: 'worker-threads', workers, sync, syncEvery } : { kind: 'one-thread' },
    }, {}, log);
    if (!result) throw new Error('the run returned no result');
    rows.push({ workers, wall: (performance.now() - started) / 1000, result, epochsCpu });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
  console.log(`  load average ${load()}`);
}

if (flags.kafka) {
  const outDir = mkdtempSync(join(tmpdir(), 'stratus-dist-bench-'));
  try {
    const args = ['--arch', arch, '--backend', backend, '--epochs', String(epochs), '--batch-size', String(batchSize), '--sync', sync, '--sync-every', String(syncEvery), '--seed', String(TRAIN_DEFAULTS.seed),
      ...(maxSamples === null ? [] : ['--max-samples', String(maxSamples)])];
    const run = await runProcesses({ ranks: 2, brokers: flags.brokers!, mnist: flags.mnist!, outDir, args });
    console.log(`  2 processes over Kafka (${flags.brokers}): ${run.wall.toFixed(1)} s wall, ${run.result.samplesPerSecond} samples/s  load average ${load()}`);
    rows.push({ workers: 2, wall: run.wall, result: run.result, epochsCpu: run.cpu, label: 'kafka×2' });
  } finally {
    rmSync(outDir, { recursive: true, force: true });
  }
}

const base = rows.find((r) => r.workers === 1 && !r.label)?.result.samplesPerSecond ?? null;
// CPU seconds (all threads) per 1,000 samples over the epochs, validation included: unlike wall time,
// it stays meaningful on a loaded machine, and its growth with N is what the exchange costs.
console.log('\nworkers  wall s  training s  samples/s  efficiency  CPU s/1k samples  test accuracy');
for (const { workers, wall, result, epochsCpu, label } of rows) {
  const cpuPerK = (epochsCpu / ((result.trainSamples * result.epochs) / 1000)).toFixed(2);
  const efficiency = base === null ? 'n/a' : `${((result.samplesPerSecond / (workers * base)) * 100).toFixed(0)} %`;
  console.log(`${(label ?? String(workers)).padStart(7)}  ${wall.toFixed(1).padStart(6)}  ${String(result.trainingSeconds).padStart(10)}  `
    + `${String(result.samplesPerSecond).padStart(9)}  ${efficiency.padStart(10)}  ${cpuPerK.padStart(16)}  ${(result.testAccuracy * 100).toFixed(2).padStart(12)} %`);
}
console.log(`load average after: ${load()}`);
