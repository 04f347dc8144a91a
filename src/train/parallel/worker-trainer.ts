// A training worker's side of data-parallel training: its own wasm backend, its own copy of the model,
// its shard of every epoch, and a SyncedOptimizer that keeps its model equal to the others'.
// Runs inside src/train-worker.ts; the coordinator is worker-threads.ts.
import type * as tf from '@tensorflow/tfjs';
import { augmentFrom, workerAugmentStream, workerDropoutStream } from '../augment-streams.ts';
import type { Augment } from '../batches.ts';
import { fastAdam, setLearningRate } from '../fast-adam.ts';
import type { GradientSource } from '../gradient-source.ts';
import { gradientSource } from '../gradients.ts';
import { buildModelToTrain } from '../init-model.ts';
import type { MnistSplit } from '../mnist.ts';
import { optimizerStep } from '../optimizer-step.ts';
import { packageModel } from '../package-model.ts';
import { paramLayout, readWeights, type ParamSlot } from '../params.ts';
import { scoreSplit } from '../scoring.ts';
import { trainSteps } from '../step-loop.ts';
import { initTrainingBackend } from '../training-backend.ts';
import { writeProgress } from './progress-words.ts';
import type { EpochReply, FinishReply, SetupReply, SharedSplit, TrainWorkerCall, ValidateReply, WorkerSetup } from './protocol.ts';
import { SharedAllReduce } from './shared-allreduce.ts';
import { SyncedOptimizer } from './synced-optimizer.ts';

interface Ready {
  readonly setup: WorkerSetup;
  readonly model: tf.LayersModel;
  readonly slots: ParamSlot[];
  readonly length: number;
  readonly train: MnistSplit;
  readonly test: MnistSplit;
  readonly progress: Float64Array;
  readonly augment: Augment | undefined;
  optimizer: SyncedOptimizer | null;
  gradients: GradientSource | null;
}

let ready: Ready | null = null;

function splitOf(shared: SharedSplit): MnistSplit {
  const split: MnistSplit = { images: new Float32Array(shared.images), labels: new Uint8Array(shared.labels), count: shared.count };
  if (shared.targets) split.targets = new Float32Array(shared.targets);
  return split;
}

function need(): Ready {
  if (!ready) throw new Error('training worker: setup first');
  return ready;
}

export async function handleTrainCall(call: TrainWorkerCall): Promise<unknown> {
  switch (call.method) {
    case 'setup':
      return setup(call.setup);
    case 'connect': {
      const r = need();
      if (call.allReduce.length !== r.length) throw new Error(`exchange holds ${call.allReduce.length} floats, the model ${r.length}`);
      const allReduce = new SharedAllReduce(call.allReduce, r.setup.rank, r.setup.stallTimeoutMs);
      r.optimizer = new SyncedOptimizer(fastAdam(r.setup.learningRate), r.slots, allReduce, r.setup.sync, r.setup.syncEvery);
      r.gradients = await gradientSource(r.setup.backend, r.model, r.optimizer, workerDropoutStream(r.setup.seed, r.setup.rank));
      return null;
    }
    case 'epoch':
      return epoch(call.epoch, call.learningRate, call.augment, call.shard);
    case 'validate': {
      const r = need();
      const scored = scoreSplit(r.model, r.train, call.indices);
      return { lossSum: scored.loss * call.indices.length, correct: Math.round(scored.accuracy * call.indices.length) } satisfies ValidateReply;
    }
    case 'weights': {
      const r = need();
      return readWeights(r.slots, new Float32Array(r.length));
    }
    case 'finish':
      return finish(call.test, call.save);
  }
}

async function setup(setup: WorkerSetup): Promise<SetupReply> {
  await initTrainingBackend(setup.backend);
  // The same seed in every worker: all start from the same weights.
  const model = await buildModelToTrain(setup.arch, setup.seed, setup.initModel);
  const { slots, length } = paramLayout(model);
  ready = {
    setup,
    model,
    slots,
    length,
    train: splitOf(setup.train),
    test: splitOf(setup.test),
    progress: new Float64Array(setup.progress),
    augment: setup.augment ? augmentFrom(workerAugmentStream(setup.seed, setup.rank)) : undefined,
    optimizer: null,
    gradients: null,
  };
  return { params: length };
}

async function epoch(epochIndex: number, learningRate: number, augment: boolean, shard: Uint32Array): Promise<EpochReply> {
  const r = need();
  const { optimizer, gradients } = r;
  if (!optimizer || !gradients) throw new Error('training worker: connect first');
  setLearningRate(optimizer.inner, learningRate);
  const { batchSize, rank } = r.setup;
  const sums = await trainSteps(r.train, shard, batchSize, optimizerStep(optimizer, gradients), {
    augment: augment ? r.augment : undefined,
    onBatch: (progress) => {
      if (rank === 0) writeProgress(r.progress, epochIndex, progress);
    },
  });
  // Local SGD: the epoch ends on averaged weights, so every worker scores (and later saves) one model.
  if (optimizer.unsyncedSteps > 0) optimizer.syncWeights();
  // The mean times the steps rather than the sum itself: the figure earlier versions reported, to the bit.
  return { ...sums, lossSum: (sums.lossSum / Math.max(1, sums.steps)) * sums.steps };
}

async function finish(test: Uint32Array, save: boolean): Promise<FinishReply> {
  const r = need();
  const scored = scoreSplit(r.model, r.test, test);
  const packaged = save ? await packageModel(r.model, r.test, test, scored.predicted) : null;
  return { predicted: scored.predicted, lossSum: scored.loss * test.length, packaged };
}
