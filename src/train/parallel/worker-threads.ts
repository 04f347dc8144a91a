// Data-parallel training on one machine (--workers N > 1): N worker threads (src/train-worker.ts), each
// with its own wasm backend and model, train on 1/N of every epoch and average their gradients (or, with
// --sync weights, their weights every K steps) through shared memory. This thread holds MNIST once in
// SharedArrayBuffers, hands out the seeded shards and combines the workers' figures; it runs no tensors.
import { TRAIN_WORKER } from '../../workers.ts';
import type { WorkerBackend } from '../backend-names.ts';
import type { DataSplit } from '../data-split.ts';
import type { MnistSplit } from '../mnist.ts';
import type { PackagedModel } from '../package-model.ts';
import { augmentOf, type TrainRecipe, type WorkerThreadsSpread } from '../recipe.ts';
import { addSums, type StepSums } from '../step-loop.ts';
import type { EpochPlan, Opening, Score, TestScore, TrainingStrategy } from '../strategy.ts';
import { progressWords, watchProgress } from './progress-words.ts';
import type { EpochReply, FinishReply, SetupReply, SharedSplit, ValidateReply } from './protocol.ts';
import { scoreShare, shardedSamples, trainShard } from './shards.ts';
import { createAllReduceBuffers } from './shared-allreduce.ts';
import { TrainWorkerPool } from './worker-pool.ts';

/** A step takes well under a second; a minute at one barrier means a worker is gone or stuck. */
export const STALL_TIMEOUT_MS = 60_000;

function shareSplit(split: MnistSplit): SharedSplit {
  const images = new SharedArrayBuffer(split.images.byteLength);
  new Float32Array(images).set(split.images);
  const labels = new SharedArrayBuffer(split.labels.byteLength);
  new Uint8Array(labels).set(split.labels);
  if (!split.targets) return { images, labels, count: split.count };
  const targets = new SharedArrayBuffer(split.targets.byteLength);
  new Float32Array(targets).set(split.targets);
  return { images, labels, count: split.count, targets };
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

export class WorkerThreadsStrategy implements TrainingStrategy {
  private pool: TrainWorkerPool | null = null;
  private split: DataSplit | null = null;
  private readonly progress = progressWords();
  /** Worker 0's model files, which come back with its share of the test set. */
  private packaged: PackagedModel | null = null;
  private readonly backend: WorkerBackend;
  private readonly onAbort = () => this.pool?.abort(this.signal?.reason instanceof Error ? this.signal.reason : new Error('training stopped'));

  constructor(
    private readonly recipe: TrainRecipe,
    private readonly spread: WorkerThreadsSpread,
    private readonly signal: AbortSignal | undefined,
  ) {
    const { workers } = spread;
    if (!Number.isInteger(workers) || workers < 2) throw new Error(`worker threads need 2 workers or more, got ${workers}`);
    // Each worker brings up its own engine (the embedded wasm backend, and an ONNX Runtime session of one
    // thread); tfjs-node's native threads would fight them for the cores.
    const backend = recipe.backend ?? 'wasm';
    if (backend === 'tensorflow') throw new Error(`--workers ${workers} trains on the onnx or wasm backend, not tensorflow`);
    this.backend = backend;
  }

  async open(split: DataSplit): Promise<Opening> {
    const { recipe, spread } = this;
    const { workers } = spread;
    const samplesPerEpoch = shardedSamples(split.training.indices.length, workers, recipe.batchSize, 'worker');
    this.split = split;
    const pool = (this.pool = TrainWorkerPool.start(TRAIN_WORKER, workers));
    this.signal?.addEventListener('abort', this.onAbort, { once: true });
    spread.onPool?.(pool);
    const train = shareSplit(split.training.split);
    const test = shareSplit(split.data.test);
    const [first] = await pool.all<SetupReply>((rank) => ({
      method: 'setup',
      setup: {
        rank,
        workers,
        arch: recipe.arch,
        backend: this.backend,
        seed: recipe.seed,
        batchSize: recipe.batchSize,
        learningRate: recipe.learningRate,
        augment: augmentOf(recipe),
        initModel: recipe.initModel ?? null,
        sync: spread.sync,
        syncEvery: spread.syncEvery,
        stallTimeoutMs: spread.stallTimeoutMs ?? STALL_TIMEOUT_MS,
        train,
        test,
        progress: this.progress,
      },
    }));
    const params = first!.params;
    const allReduce = createAllReduceBuffers(workers, params);
    pool.attach(allReduce);
    await pool.all((_rank) => ({ method: 'connect', allReduce }));
    this.signal?.throwIfAborted();
    return { params, samplesPerEpoch };
  }

  async trainEpoch(plan: EpochPlan): Promise<StepSums> {
    const { workers } = this.spread;
    const ticker = watchProgress(this.progress, workers, plan.epoch, plan.onBatch);
    try {
      const replies = await this.need().pool.all<EpochReply>((rank) => ({
        method: 'epoch',
        epoch: plan.epoch,
        learningRate: plan.learningRate,
        augment: plan.augment,
        shard: trainShard(plan.order, rank, workers),
      }));
      return addSums(replies);
    } finally {
      clearInterval(ticker);
    }
  }

  async validate(): Promise<Score> {
    const { pool, split } = this.need();
    const replies = await pool.all<ValidateReply>((rank) => ({ method: 'validate', indices: scoreShare(split.validationIndices, rank, this.spread.workers) }));
    const count = Math.max(1, split.validationCount);
    return { loss: replies.reduce((total, r) => total + r.lossSum, 0) / count, accuracy: replies.reduce((total, r) => total + r.correct, 0) / count };
  }

  /** Cheap insurance (one copy of the weights per worker): the model saved is the one all of them hold. */
  async agree(): Promise<boolean> {
    const replicas = await this.need().pool.all<Float32Array>(() => ({ method: 'weights' }));
    const differing = replicas.findIndex((w) => !sameBits(w, replicas[0]!));
    if (differing > 0) throw new Error(`training worker ${differing} ended with weights that differ from worker 0's`);
    this.spread.onReplicas?.(replicas);
    return true;
  }

  async scoreTest(): Promise<TestScore> {
    const { pool, split } = this.need();
    const { testIndices } = split;
    const finished = await pool.all<FinishReply>((rank) => ({ method: 'finish', test: scoreShare(testIndices, rank, this.spread.workers), save: rank === 0 }));
    const predicted = new Uint8Array(testIndices.length);
    let offset = 0;
    for (const reply of finished) {
      predicted.set(reply.predicted, offset);
      offset += reply.predicted.length;
    }
    this.packaged = finished[0]!.packaged;
    return { predicted, loss: finished.reduce((total, r) => total + r.lossSum, 0) / testIndices.length };
  }

  async packageModel(): Promise<PackagedModel> {
    if (!this.packaged) throw new Error('training worker 0 returned no model');
    return this.packaged;
  }

  reportExtras(): object {
    const { workers, sync, syncEvery } = this.spread;
    return { parallel: { workers, sync, syncEvery: sync === 'weights' ? syncEvery : null } };
  }

  async close(): Promise<void> {
    this.signal?.removeEventListener('abort', this.onAbort);
    this.pool?.close();
  }

  private need(): { pool: TrainWorkerPool; split: DataSplit } {
    if (!this.pool || !this.split) throw new Error('worker threads: open first');
    return { pool: this.pool, split: this.split };
  }
}
