// How a way of spreading the work plugs into the one epoch loop (epoch-loop.ts) and the one finish
// (finish.ts): one-thread.ts, parallel/worker-threads.ts and distributed/ranks.ts implement it.
import type { DataSplit } from './data-split.ts';
import type { BatchProgress } from './events.ts';
import type { PackagedModel } from './package-model.ts';
import type { EpochRecord } from './report.ts';
import type { StepSums } from './step-loop.ts';

/** Mean cross-entropy and accuracy on a split scored in inference mode. */
export interface Score {
  readonly loss: number;
  readonly accuracy: number;
}

export interface TestScore {
  readonly loss: number;
  /** The predicted digit of every test image, in order. */
  readonly predicted: Uint8Array;
}

export interface Opening {
  /** Trainable parameters of the model. */
  readonly params: number;
  /** Images trained per epoch: with workers or ranks, what equal shards leave (see shards.ts). */
  readonly samplesPerEpoch: number;
  /** A distributed job restarted from its checkpoint: the epochs it had done and their records. */
  readonly resumed?: { readonly epoch: number; readonly history: readonly EpochRecord[] };
}

export interface EpochPlan {
  /** From 0. */
  readonly epoch: number;
  readonly learningRate: number;
  /** The whole epoch's training order (indices into the split's training images), already shuffled. */
  readonly order: Uint32Array;
  /** Distort this epoch's images (recipe.ts: augmentsEpoch). */
  readonly augment: boolean;
  /** Running figures of the whole epoch (every worker or rank together). */
  readonly onBatch: (progress: BatchProgress) => void;
}

export interface TrainingStrategy {
  /** Builds the model(s) on `split` and meets the other workers or ranks. */
  open(split: DataSplit): Promise<Opening>;
  /** Trains one epoch; the sums cover every worker or rank. */
  trainEpoch(plan: EpochPlan): Promise<StepSums>;
  /** The hold-out after an epoch; null where this process keeps no records (ranks other than 0). */
  validate(): Promise<Score | null>;
  /** After an epoch's record is made (rank 0 checkpoints). */
  afterEpoch?(epochsDone: number, history: readonly EpochRecord[]): Promise<void>;
  /** Checks that every replica ended with the same weights; false: this process ends here, without a model. */
  agree(): Promise<boolean>;
  scoreTest(): Promise<TestScore>;
  /** The files to write, proven to reload to the predictions `tested` holds. */
  packageModel(tested: TestScore): Promise<PackagedModel>;
  /** report.json's fields about this way of training (none for one thread). */
  reportExtras(): object;
  /** The run failed: tell whoever else takes part. */
  fail?(error: unknown): Promise<void>;
  /** The model directory is written: the run succeeded (rank 0 removes the job's checkpoints). */
  finished?(): Promise<void>;
  /** Releases threads, links and tensors, whether open finished or not. */
  close(): Promise<void>;
}
