// Data-parallel training across processes (--world-size N): N `stratus --role trainer` processes, one
// per rank, each training on its seeded shard of every epoch (the shards of src/train/parallel/) and
// meeting rank 0 on the Transport every step (rank-link.ts). Rank 0 checkpoints to the Store after every
// epoch and, at start, hands every rank the job's latest checkpoint, so a restarted Job continues from
// the last finished epoch. Before anything is saved, every rank's weights must hash the same. Only rank 0
// scores the hold-outs and writes the model directory; the others end when training does.
import type { Store } from '../../adapters/store/store.ts';
import type { Transport } from '../../adapters/transport/transport.ts';
import { buildModel } from '../architectures.ts';
import { augmentFrom, rankEpochAugmentStream } from '../augment-streams.ts';
import { splitTrainingData } from '../data-split.ts';
import { fastAdam, setLearningRate } from '../fast-adam.ts';
import { trainShard } from '../parallel/shards.ts';
import type { SyncMode } from '../parallel/sync-modes.ts';
import { paramLayout, readWeights, writeWeights } from '../params.ts';
import type { EpochRecord } from '../report.ts';
import { shuffle } from '../random.ts';
import { scoreSplit } from '../scoring.ts';
import { AUGMENT_BY_DEFAULT, type TrainEvent, type TrainOptions, type TrainResult } from '../trainer.ts';
import { decodeCheckpoint, encodeCheckpoint, latestCheckpoint, saveCheckpoint } from './checkpoint.ts';
import { finishOnRankZero } from './finish.ts';
import { checksum, optimizerState, restoreOptimizer } from './model-state.ts';
import { trainRankEpoch, type EpochSums, type RankModel } from './rank-epoch.ts';
import { RankLink } from './rank-link.ts';

export interface DistributedOptions extends TrainOptions {
  readonly transport: Transport;
  /** Where rank 0 keeps the checkpoints (the other ranks never touch it). */
  readonly store: Store;
  readonly rank: number;
  readonly worldSize: number;
  readonly jobId: string;
  readonly sync: SyncMode;
  readonly syncEvery: number;
  /** A rank silent this long fails the run (every other rank exits with the reason). */
  readonly peerTimeoutMs: number;
  /** How long the ranks wait for each other at start; default 5 × peerTimeoutMs (pods start apart). */
  readonly startTimeoutMs?: number;
  /** Called with this rank's final weights once every rank's checksum matched (tests compare them). */
  readonly onWeights?: (weights: Float32Array) => void;
}

const encodeJson = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const decodeJson = <T>(bytes: Uint8Array) => JSON.parse(new TextDecoder().decode(bytes)) as T;

function sumFigures(payloads: Uint8Array[]): Uint8Array {
  const all = payloads.map((p) => decodeJson<EpochSums>(p));
  const total = (pick: (s: EpochSums) => number) => all.reduce((sum, s) => sum + pick(s), 0);
  return encodeJson({ lossSum: total((s) => s.lossSum), steps: total((s) => s.steps), correct: total((s) => s.correct), samples: total((s) => s.samples) });
}

function compareChecksums(payloads: Uint8Array[]): Uint8Array {
  const sums = payloads.map((p) => new TextDecoder().decode(p));
  const differing = sums.findIndex((s) => s !== sums[0]);
  return encodeJson(differing < 0 ? 'same' : `rank ${differing} ended with weights that differ from rank 0's (sha256 ${sums[differing]!.slice(0, 12)} vs ${sums[0]!.slice(0, 12)})`);
}

/** Rank 0 returns the run's result once the model directory is written; the other ranks null. */
export async function trainDistributed(options: DistributedOptions, log: (event: TrainEvent) => void): Promise<TrainResult | null> {
  const { arch, epochs, batchSize, seed, learningRate, lrDecay, signal, rank, worldSize, jobId } = options;
  const augment = options.augment ?? AUGMENT_BY_DEFAULT[arch];
  const wallStarted = performance.now();
  // The split and the epoch orders of train(): every rank draws the same ones from the seed.
  const split = splitTrainingData(options);
  const { data, random, validationCount, validationIndices, training } = split;
  if (training.indices.length < worldSize * batchSize) throw new Error(`${training.indices.length} training samples are fewer than one batch of ${batchSize} per rank`);

  const model = buildModel(arch, seed);
  const optimizer = fastAdam(learningRate);
  const { slots, length } = paramLayout(model);
  const state: RankModel = { model, optimizer, slots, length };
  const link = await RankLink.open({ transport: options.transport, jobId, rank, worldSize, timeoutMs: options.peerTimeoutMs, startTimeoutMs: options.startTimeoutMs ?? 5 * options.peerTimeoutMs });
  try {
    const saved = rank === 0 ? await latestCheckpoint(options.store, jobId) : null;
    if (saved && saved.params !== length) throw new Error(`checkpoint of job ${jobId} holds ${saved.params} weights, the ${arch} model ${length}`);
    // Every rank, rank 0 included, starts from the same bytes.
    const welcome = await link.rendezvous(saved ? encodeCheckpoint(saved) : new Uint8Array(0));
    const resumed = welcome.byteLength > 0 ? decodeCheckpoint(welcome) : null;
    if (resumed) {
      writeWeights(slots, resumed.weights);
      await restoreOptimizer(optimizer, slots, length, resumed.optimizer);
    }
    const firstEpoch = resumed?.epoch ?? 0;
    const history: EpochRecord[] = [...(resumed?.history ?? [])];
    // Replays the shuffles of the epochs already done, so the resumed epochs see the orders they would have.
    for (let epoch = 0; epoch < firstEpoch; epoch++) shuffle(training.indices, random);
    const samplesPerEpoch = Math.floor(training.indices.length / worldSize) * worldSize;
    log({ kind: 'start', arch, params: length, trainSamples: samplesPerEpoch, validationSamples: validationCount, epochs, batchSize });

    const started = performance.now();
    let trainMs = 0;
    for (let epoch = firstEpoch; epoch < epochs; epoch++) {
      const rate = learningRate * lrDecay ** epoch;
      setLearningRate(optimizer, rate);
      shuffle(training.indices, random);
      const epochStarted = performance.now();
      const sums = await trainRankEpoch(state, link, {
        epoch,
        split: training.split,
        shard: trainShard(training.indices, rank, worldSize),
        batchSize,
        sync: options.sync,
        syncEvery: options.syncEvery,
        ...(augment ? { augment: augmentFrom(rankEpochAugmentStream(seed, rank, epoch)) } : {}),
        ...(signal ? { signal } : {}),
        onBatch: (progress) => log({ kind: 'batch', epoch: epoch + 1, epochs, ...progress, samples: progress.samples * worldSize }),
      });
      const ms = performance.now() - epochStarted;
      trainMs += ms;
      const total = decodeJson<EpochSums>(await link.round(`the figures of epoch ${epoch + 1}`, encodeJson(sums), sumFigures));
      if (rank === 0) {
        const validation = scoreSplit(model, data.train, validationIndices);
        const record: EpochRecord = {
          epoch: epoch + 1,
          learningRate: rate,
          loss: total.lossSum / Math.max(1, total.steps),
          accuracy: total.correct / Math.max(1, total.samples),
          valLoss: validation.loss,
          valAccuracy: validation.accuracy,
          seconds: +(ms / 1000).toFixed(3),
          samplesPerSecond: Math.round(samplesPerEpoch / (ms / 1000)),
        };
        history.push(record);
        log({ kind: 'epoch', epoch: epoch + 1, epochs, loss: record.loss, accuracy: record.accuracy, validationLoss: record.valLoss, validationAccuracy: record.valAccuracy, seconds: ms / 1000, samplesPerSecond: record.samplesPerSecond });
        await saveCheckpoint(options.store, { jobId, epoch: epoch + 1, params: length, weights: readWeights(slots, new Float32Array(length)), optimizer: await optimizerState(optimizer, slots, length), history });
      }
      signal?.throwIfAborted();
    }
    const trainingSeconds = (performance.now() - started) / 1000;

    // Cheap insurance: the model rank 0 saves is the one every rank holds, to the bit.
    const weights = readWeights(slots, new Float32Array(length));
    const verdict = decodeJson<string>(await link.round('the final checksum', new TextEncoder().encode(checksum(weights)), compareChecksums));
    if (verdict !== 'same') throw new Error(verdict);
    options.onWeights?.(weights);
    if (rank !== 0) return null;
    return await finishOnRankZero({ options, model, augment, split, history, samplesPerEpoch, wallStarted, trainMs, trainingSeconds, resumedFrom: firstEpoch }, log);
  } catch (error) {
    await link.abort(error);
    throw error;
  } finally {
    await link.close();
    optimizer.dispose();
    model.dispose();
  }
}
