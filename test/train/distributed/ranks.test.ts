// Data-parallel training across ranks (src/train/distributed/ranks.ts) on the memory transport: every
// rank in this one process, with a transport of its own joined to one MemoryBroker, as separate processes
// join one Kafka. Seed arch (no dropout, no augmentation): a run is fully determined by its seed and ranks.
// The same across real processes and a real broker: ranks-over-kafka.test.ts.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../../src/adapters/store/pouch-store.ts';
import type { Store } from '../../../src/adapters/store/store.ts';
import { MemoryBroker, MemoryTransport } from '../../../src/adapters/transport/memory-transport.ts';
import { buildModel } from '../../../src/train/architectures.ts';
import { splitTrainingData } from '../../../src/train/data-split.ts';
import { checkpointVersion } from '../../../src/train/distributed/checkpoint.ts';
import type { TrainEvent } from '../../../src/train/events.ts';
import { fastAdam, setLearningRate } from '../../../src/train/fast-adam.ts';
import { tfjsGradients } from '../../../src/train/gradient-source.ts';
import { optimizerStep } from '../../../src/train/optimizer-step.ts';
import { trainShard } from '../../../src/train/parallel/shards.ts';
import { shuffle } from '../../../src/train/random.ts';
import type { RanksSpread, TrainRecipe } from '../../../src/train/recipe.ts';
import type { TrainResult } from '../../../src/train/run-records.ts';
import { runTraining } from '../../../src/train/run.ts';
import { scoreSplit } from '../../../src/train/scoring.ts';
import { trainSteps } from '../../../src/train/step-loop.ts';
import { initTrainingBackend } from '../../../src/train/training-backend.ts';
import { SMALL_RECIPE } from '../small-recipe.ts';

const dirs: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-distributed-'));
  dirs.push(dir);
  return dir;
};
let store: Store;
beforeAll(async () => {
  await initTrainingBackend('wasm');
  store = new PouchStore({ adapter: 'memory', directory: `stratus-distributed-${crypto.randomUUID()}` });
  await store.open();
});
afterAll(async () => {
  await store.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** What every rank of a run shares: the recipe and the spread, but for the rank and the output. */
type Recipe = Omit<TrainRecipe, 'outDir' | 'spread'> & Omit<RanksSpread, 'kind' | 'rank' | 'onWeights'> & { readonly jobId: string };
const recipe = (overrides: Partial<Recipe>): Recipe => ({
  ...SMALL_RECIPE,
  worldSize: 2,
  jobId: `test-${crypto.randomUUID()}`,
  sync: 'gradients',
  syncEvery: 4,
  peerTimeoutMs: 60_000,
  startTimeoutMs: 120_000,
  ...overrides,
});

interface RankOutcome {
  readonly result: TrainResult | null;
  readonly weights: Float32Array | null;
  readonly events: TrainEvent[];
}

/** `r` without its spread, for a run of any spread. */
function sharedRecipe(r: Recipe): Omit<TrainRecipe, 'outDir' | 'spread'> {
  const { worldSize: _worldSize, jobId: _jobId, sync: _sync, syncEvery: _syncEvery, peerTimeoutMs: _peerTimeoutMs, startTimeoutMs: _startTimeoutMs, keepCheckpoints: _keep, ...shared } = r;
  return shared;
}

/** Runs every rank of `r` in this process; `onEvent` gets each rank's transport, so a test can break one. */
async function runRanks(r: Recipe, hooks: { onEvent?: (rank: number, event: TrainEvent, transport: MemoryTransport) => void; broker?: MemoryBroker } = {}) {
  const broker = hooks.broker ?? new MemoryBroker();
  const outDir = tempDir();
  const { worldSize, jobId, sync, syncEvery, peerTimeoutMs, startTimeoutMs, keepCheckpoints } = r;
  const runs = Array.from({ length: worldSize }, async (_, rank): Promise<RankOutcome> => {
    const transport = new MemoryTransport(broker);
    await transport.start();
    let weights: Float32Array | null = null;
    const events: TrainEvent[] = [];
    const spread: RanksSpread = { kind: 'ranks', rank, worldSize, jobId, sync, syncEvery, peerTimeoutMs, startTimeoutMs, keepCheckpoints, onWeights: (w) => (weights = w) };
    try {
      const result = await runTraining({ ...sharedRecipe(r), outDir, spread }, { transport, store }, (event) => {
        events.push(event);
        hooks.onEvent?.(rank, event, transport);
      });
      return { result, weights, events };
    } finally {
      await transport.close();
    }
  });
  return { runs, outDir };
}

/** One worker, one model, one thread's step loop; each step's batch is the ranks' batches of that step, joined. */
async function singleWorkerOnRankBatches(r: Recipe): Promise<number> {
  const { data, random, training, testIndices } = splitTrainingData(r);
  const model = buildModel(r.arch, r.seed);
  const optimizer = fastAdam(r.learningRate);
  try {
    for (let epoch = 0; epoch < r.epochs; epoch++) {
      setLearningRate(optimizer, r.learningRate * r.lrDecay ** epoch);
      shuffle(training.indices, random);
      const shards = Array.from({ length: r.worldSize }, (_, rank) => trainShard(training.indices, rank, r.worldSize));
      const joined: number[] = [];
      for (let from = 0; from < shards[0]!.length; from += r.batchSize) for (const shard of shards) joined.push(...shard.subarray(from, from + r.batchSize));
      await trainSteps(training.split, Uint32Array.from(joined), r.batchSize * r.worldSize, optimizerStep(optimizer, tfjsGradients(model, optimizer)));
    }
    return scoreSplit(model, data.test, testIndices).accuracy;
  } finally {
    optimizer.dispose();
    model.dispose();
  }
}

/** The versions of the job's checkpoints in the store. */
const checkpointsOf = async (jobId: string) => (await store.listModels()).map((m) => m.version).filter((version) => version.startsWith(`checkpoint-${jobId}-`));

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

// The uninterrupted 2-epoch run the resume test compares with; run once, by whichever test needs it first.
let uninterrupted: Promise<RankOutcome[]> | null = null;
const twoEpochs = recipe({ epochs: 2 });
const uninterruptedRun = () => (uninterrupted ??= runRanks({ ...twoEpochs, jobId: `test-${crypto.randomUUID()}` }).then(({ runs }) => Promise.all(runs)));

describe('ranks on the memory transport', () => {
  test('2 ranks averaging gradients hold bit-identical weights, the ones 2 worker threads reach', async () => {
    const outcomes = await uninterruptedRun();
    expect(sameBits(outcomes[0]!.weights!, outcomes[1]!.weights!)).toBe(true);
    expect(outcomes[1]!.result).toBeNull();
    const result = outcomes[0]!.result!;
    expect(result.epochs).toBe(2);
    expect(result.testAccuracy).toBeGreaterThan(0.5);
    expect(outcomes[0]!.events.filter((e) => e.kind === 'epoch')).toHaveLength(2);
    // Same shards, same rank-ordered mean, same Adam: the exchange over a transport changes no bit.
    let threads: Float32Array[] = [];
    const { worldSize: workers, sync, syncEvery } = twoEpochs;
    await runTraining({ ...sharedRecipe(twoEpochs), outDir: tempDir(), spread: { kind: 'worker-threads', workers, sync, syncEvery, onReplicas: (w) => (threads = w) } }, {}, () => {});
    expect(sameBits(threads[0]!, outcomes[0]!.weights!)).toBe(true);
  }, 240_000);

  test('3 ranks averaging weights every 2 steps end identical, and rank 0 writes the model', async () => {
    const { runs, outDir } = await runRanks(recipe({ worldSize: 3, sync: 'weights', syncEvery: 2, maxSamples: 960 }));
    const outcomes = await Promise.all(runs);
    for (const o of outcomes.slice(1)) expect(sameBits(o.weights!, outcomes[0]!.weights!)).toBe(true);
    const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8'));
    expect(report.distributed).toMatchObject({ worldSize: 3, sync: 'weights', syncEvery: 2, resumedFromEpoch: 0 });
    expect(report.data.trainSamples).toBe(960);
    expect(outcomes[0]!.result!.testAccuracy).toBeGreaterThan(0.5);
  }, 240_000);

  // The single-worker reference is one thread's step loop (trainSteps, optimizerStep, fastAdam) on the same
  // split and epoch orders, stepping on batches of 2 × 32 made of exactly the samples the two ranks take at
  // that step: the mean of the ranks' two 32-sample gradients is that batch's gradient, so only float
  // rounding differs. (Against a one-thread run with its own batches the gap is noise, not the exchange:
  // measured at 6,000 samples, 1 epoch, 92.36 % for one worker at batch 64 vs 93.15 % for 2 ranks × 32.)
  test('2 ranks land within 0.3 points of one worker trained on the same batches', async () => {
    const r = recipe({ maxSamples: 3000, seed: 42 });
    const reference = await singleWorkerOnRankBatches(r);
    const outcomes = await Promise.all((await runRanks(r)).runs);
    const distributed = outcomes[0]!.result!.testAccuracy;
    console.log(`  test accuracy: 1 worker ${(reference * 100).toFixed(2)} %, 2 ranks ${(distributed * 100).toFixed(2)} %`);
    expect(Math.abs(distributed - reference)).toBeLessThan(0.003);
    expect(distributed).toBeGreaterThan(0.85);
  }, 240_000);

  test('a rank that vanishes fails every other rank within the timeout, naming it; the job restarted resumes', async () => {
    // Longer than rank 0's validation between epochs, which the others wait out.
    const peerTimeoutMs = 20_000;
    const r = recipe({ worldSize: 3, epochs: 2, maxSamples: 960, peerTimeoutMs });
    // One broker for both attempts: the second must ignore whatever the first left on the topics.
    const broker = new MemoryBroker();
    const { runs } = await runRanks(r, {
      broker,
      onEvent: (rank, event, transport) => {
        // As a killed process would: its connection is gone, and it says nothing on the way out.
        if (rank === 1 && event.kind === 'batch' && event.epoch === 2 && event.batch === 3) {
          void transport.close();
        }
      },
    });
    const settled = await Promise.allSettled(runs);
    // Each rank says what ended its wait; that, not a stopwatch, shows the timeout was the one asked for:
    // rank 0 gave up on its own deadline (a share of --peer-timeout-ms), rank 2 on rank 0's word.
    const reasons = settled.map((s) => (s.status === 'rejected' ? String((s.reason as Error).message) : 'resolved'));
    expect(reasons[0]).toMatch(/^rank 0 waited 16 s at epoch 2 step 4 for rank 1: it stalled or died$/);
    // Rank 2 hears rank 0's reason rather than waiting out a timeout of its own.
    expect(reasons[2]).toMatch(/^rank 0 failed: rank 0 waited 16 s at epoch 2 step 4 for rank 1/);
    expect(reasons[1]).not.toBe('resolved');
    // A job that has not finished keeps its newest checkpoint.
    expect(await checkpointsOf(r.jobId)).toEqual([checkpointVersion(r.jobId, 1)]);

    const again = await runRanks(r, { broker });
    const outcomes = await Promise.all(again.runs);
    for (const o of outcomes.slice(1)) expect(sameBits(o.weights!, outcomes[0]!.weights!)).toBe(true);
    expect(outcomes[0]!.events.filter((e) => e.kind === 'epoch').map((e) => (e as { epoch: number }).epoch)).toEqual([2]);
    expect(JSON.parse(readFileSync(join(again.outDir, 'report.json'), 'utf8')).distributed.resumedFromEpoch).toBe(1);
    // It succeeded, without --keep-checkpoints: the job's checkpoints are gone.
    expect(await checkpointsOf(r.jobId)).toEqual([]);
  }, 240_000);

  test('a job restarted after epoch 1 resumes from its checkpoint and ends as the uninterrupted run', async () => {
    const jobId = `test-resume-${crypto.randomUUID()}`;
    // Kept on purpose: by default a job that succeeded leaves no checkpoint to resume from.
    const first = await Promise.all((await runRanks({ ...twoEpochs, epochs: 1, jobId, keepCheckpoints: true })).runs);
    expect(first[0]!.result!.epochs).toBe(1);
    expect(await checkpointsOf(jobId)).toEqual([checkpointVersion(jobId, 1)]);
    const { runs, outDir } = await runRanks({ ...twoEpochs, jobId, keepCheckpoints: true });
    const resumed = await Promise.all(runs);
    // Only epoch 2 was trained again; epoch 1's figures come from the checkpoint.
    expect(resumed[0]!.events.filter((e) => e.kind === 'epoch').map((e) => (e as { epoch: number }).epoch)).toEqual([2]);
    const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8'));
    expect(report.distributed.resumedFromEpoch).toBe(1);
    expect(report.history.map((h: { epoch: number }) => h.epoch)).toEqual([1, 2]);
    // Each epoch's checkpoint replaced the one before: only the newest is left.
    expect(await checkpointsOf(jobId)).toEqual([checkpointVersion(jobId, 2)]);
    const reference = await uninterruptedRun();
    expect(sameBits(resumed[0]!.weights!, resumed[1]!.weights!)).toBe(true);
    expect(sameBits(resumed[0]!.weights!, reference[0]!.weights!)).toBe(true);
  }, 240_000);
});
