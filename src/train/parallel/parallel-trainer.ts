// Data-parallel training on one machine (--workers N > 1): N worker threads (src/train-worker.ts),
// each with its own wasm backend and model, train on 1/N of every epoch and average their gradients
// (or, with --sync weights, their weights every K steps) through shared memory. This thread holds MNIST
// once in SharedArrayBuffers, hands out the seeded shards, combines the workers' figures and writes the
// model directory; it runs no tensors itself. Same flags and output as train() in ../trainer.ts.
import { TRAIN_WORKER } from '../../workers.ts';
import type { MnistSplit } from '../mnist.ts';
import { testMetrics, type EpochRecord } from '../report.ts';
import { runRecords } from '../run-records.ts';
import { splitTrainingData } from '../data-split.ts';
import { writeModelDirectory } from '../save-model.ts';
import { shuffle } from '../random.ts';
import { AUGMENT_BY_DEFAULT, type TrainEvent, type TrainOptions, type TrainResult } from '../trainer.ts';
import { PROGRESS, type EpochReply, type FinishReply, type SetupReply, type SharedSplit, type ValidateReply } from './protocol.ts';
import { scoreShare, trainShard } from './shards.ts';
import { createAllReduceBuffers } from './shared-allreduce.ts';
import type { SyncMode } from './sync-modes.ts';
import { TrainWorkerPool } from './worker-pool.ts';

export interface ParallelOptions extends TrainOptions {
  readonly workers: number;
  /** gradients: averaged every step; weights: averaged every `syncEvery` steps (local SGD). */
  readonly sync: SyncMode;
  readonly syncEvery: number;
  /** How long a worker waits at a barrier for the others before it fails the run. */
  readonly stallTimeoutMs?: number;
  /** Called with the pool once it exists (tests use it to kill a worker). */
  readonly onPool?: (pool: TrainWorkerPool) => void;
  /** Called with every worker's final weights, which the run has checked to be bit-identical. */
  readonly onReplicas?: (weights: Float32Array[]) => void;
}

/** A step takes well under a second; a minute at one barrier means a worker is gone or stuck. */
export const STALL_TIMEOUT_MS = 60_000;

function shareSplit(split: MnistSplit): SharedSplit {
  const images = new SharedArrayBuffer(split.images.byteLength);
  new Float32Array(images).set(split.images);
  const labels = new SharedArrayBuffer(split.labels.byteLength);
  new Uint8Array(labels).set(split.labels);
  return { images, labels, count: split.count };
}

export async function trainParallel(options: ParallelOptions, log: (event: TrainEvent) => void): Promise<TrainResult> {
  const { arch, epochs, batchSize, seed, learningRate, lrDecay, signal, workers } = options;
  if (!Number.isInteger(workers) || workers < 2) throw new Error(`trainParallel needs 2 workers or more, got ${workers}`);
  // Each worker brings up the embedded wasm backend; tfjs-node's native threads would fight them for the cores.
  if ((options.backend ?? 'wasm') !== 'wasm') throw new Error(`--workers ${workers} trains on the wasm backend only, not ${options.backend}`);
  const augment = options.augment ?? AUGMENT_BY_DEFAULT[arch];
  const wallStarted = performance.now();

  // The split and the shuffles of train(): the same seed gives the same hold-out and epoch orders.
  const split = splitTrainingData(options);
  const { data, random, validationCount, validationIndices, testIndices, training } = split;
  if (training.indices.length < workers * batchSize) throw new Error(`${training.indices.length} training samples are fewer than one batch of ${batchSize} per worker`);

  const progress = new SharedArrayBuffer(PROGRESS.length * 8);
  const pool = TrainWorkerPool.start(TRAIN_WORKER, workers);
  const onAbort = () => pool.abort(signal?.reason instanceof Error ? signal.reason : new Error('training stopped'));
  signal?.addEventListener('abort', onAbort, { once: true });
  let ticker: ReturnType<typeof setInterval> | undefined;
  try {
    options.onPool?.(pool);
    const train = shareSplit(training.split);
    const test = shareSplit(data.test);
    const [first] = await pool.all<SetupReply>((rank) => ({
      method: 'setup',
      setup: {
        rank,
        workers,
        arch,
        seed,
        batchSize,
        learningRate,
        augment,
        initModel: options.initModel ?? null,
        sync: options.sync,
        syncEvery: options.syncEvery,
        stallTimeoutMs: options.stallTimeoutMs ?? STALL_TIMEOUT_MS,
        train,
        test,
        progress,
      },
    }));
    const params = first!.params;
    const allReduce = createAllReduceBuffers(workers, params);
    pool.attach(allReduce);
    await pool.all((_rank) => ({ method: 'connect', allReduce }));
    signal?.throwIfAborted();

    const perWorker = Math.floor(training.indices.length / workers);
    const samplesPerEpoch = perWorker * workers;
    log({ kind: 'start', arch, params, trainSamples: samplesPerEpoch, validationSamples: validationCount, epochs, batchSize });
    const started = performance.now();
    let trainMs = 0;
    const history: EpochRecord[] = [];
    for (let epoch = 0; epoch < epochs; epoch++) {
      const rate = learningRate * lrDecay ** epoch;
      shuffle(training.indices, random);
      const epochStarted = performance.now();
      ticker = watchProgress(progress, workers, epoch, epochs, log);
      const replies = await pool.all<EpochReply>((rank) => ({
        method: 'epoch',
        epoch,
        learningRate: rate,
        shard: trainShard(training.indices, rank, workers),
      }));
      clearInterval(ticker);
      const ms = performance.now() - epochStarted;
      trainMs += ms;
      const validation = await pool.all<ValidateReply>((rank) => ({ method: 'validate', indices: scoreShare(validationIndices, rank, workers) }));
      const sum = (pick: (r: EpochReply) => number) => replies.reduce((total, r) => total + pick(r), 0);
      const validationSum = (pick: (r: ValidateReply) => number) => validation.reduce((total, r) => total + pick(r), 0);
      const record: EpochRecord = {
        epoch: epoch + 1,
        learningRate: rate,
        loss: sum((r) => r.lossSum) / Math.max(1, sum((r) => r.steps)),
        accuracy: sum((r) => r.correct) / Math.max(1, sum((r) => r.samples)),
        valLoss: validationSum((r) => r.lossSum) / Math.max(1, validationCount),
        valAccuracy: validationSum((r) => r.correct) / Math.max(1, validationCount),
        seconds: +(ms / 1000).toFixed(3),
        samplesPerSecond: Math.round(samplesPerEpoch / (ms / 1000)),
      };
      history.push(record);
      log({
        kind: 'epoch',
        epoch: epoch + 1,
        epochs,
        loss: record.loss,
        accuracy: record.accuracy,
        validationLoss: record.valLoss,
        validationAccuracy: record.valAccuracy,
        seconds: ms / 1000,
        samplesPerSecond: record.samplesPerSecond,
      });
      signal?.throwIfAborted();
    }
    const trainingSeconds = (performance.now() - started) / 1000;
    // Cheap insurance (one copy of the weights per worker): the model saved is the one all of them hold.
    const replicas = await pool.all<Float32Array>(() => ({ method: 'weights' }));
    const differing = replicas.findIndex((w) => !sameBits(w, replicas[0]!));
    if (differing > 0) throw new Error(`training worker ${differing} ended with weights that differ from worker 0's`);
    options.onReplicas?.(replicas);

    const shares = Array.from({ length: workers }, (_, rank) => scoreShare(testIndices, rank, workers));
    const finished = await pool.all<FinishReply>((rank) => ({ method: 'finish', test: shares[rank]!, save: rank === 0 }));
    const predicted = new Uint8Array(testIndices.length);
    let offset = 0;
    for (const reply of finished) {
      predicted.set(reply.predicted, offset);
      offset += reply.predicted.length;
    }
    const testLoss = finished.reduce((total, r) => total + r.lossSum, 0) / testIndices.length;
    const metrics = testMetrics(data.test.labels, predicted, testLoss);
    const testAccuracy = metrics.testAccuracy;
    log({ kind: 'tested', testAccuracy, trainingSeconds });
    const files = finished[0]!.files;
    const inferenceMs = finished[0]!.inferenceMs;
    if (!files || !inferenceMs) throw new Error('training worker 0 returned no model');

    const records = runRecords({
      options,
      arch,
      augment,
      backend: 'wasm',
      split,
      epochSamples: samplesPerEpoch,
      history,
      validationAccuracy: history.at(-1)?.valAccuracy ?? 0,
      test: metrics,
      params,
      weightsBytes: files.weights.byteLength,
      inferenceMs,
      wallStarted,
      trainMs,
      trainingSeconds,
    });
    const result = records.result;
    const report = { ...records.report, parallel: { workers, sync: options.sync, syncEvery: options.sync === 'weights' ? options.syncEvery : null } };
    signal?.throwIfAborted();
    await writeModelDirectory(options.outDir, files, result, report);
    log({ kind: 'saved', outDir: options.outDir, weightsBytes: files.weights.byteLength, inferenceMs });
    return result;
  } finally {
    clearInterval(ticker);
    signal?.removeEventListener('abort', onAbort);
    pool.close();
  }
}

/** Turns rank 0's progress words into 'batch' events, 10 times a second at most. */
function watchProgress(buffer: SharedArrayBuffer, workers: number, epoch: number, epochs: number, log: (event: TrainEvent) => void): ReturnType<typeof setInterval> {
  const words = new Float64Array(buffer);
  let lastBatch = -1;
  return setInterval(() => {
    const batch = words[PROGRESS.batch]!;
    if (words[PROGRESS.epoch] !== epoch || batch === lastBatch) return;
    lastBatch = batch;
    log({
      kind: 'batch',
      epoch: epoch + 1,
      epochs,
      batch,
      batches: words[PROGRESS.batches]!,
      // Samples of the whole step: every worker trained as many as rank 0.
      samples: words[PROGRESS.samples]! * workers,
      loss: words[PROGRESS.loss]!,
      accuracy: words[PROGRESS.accuracy]!,
    });
  }, 100);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
