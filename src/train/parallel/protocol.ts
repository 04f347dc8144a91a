// What the coordinator (worker-threads.ts) and a training worker (src/train-worker.ts) say to each
// other. Images and labels live in SharedArrayBuffers: one copy of MNIST for all the workers.
import type { ArchName } from '../arch-names.ts';
import type { WorkerBackend } from '../backend-names.ts';
import type { PackagedModel } from '../package-model.ts';
import type { StepSums } from '../step-loop.ts';
import type { SharedAllReduceBuffers } from './shared-allreduce.ts';
import type { SyncMode } from './sync-modes.ts';

export interface SharedSplit {
  /** count×784 float32 pixels in 0..1. */
  readonly images: SharedArrayBuffer;
  readonly labels: SharedArrayBuffer;
  readonly count: number;
  /** count×10 float32 training targets, when the run has them (MnistSplit.targets). */
  readonly targets?: SharedArrayBuffer;
}

export interface WorkerSetup {
  readonly rank: number;
  readonly workers: number;
  readonly arch: ArchName;
  /** What computes the gradients: onnx (ONNX Runtime, one session per worker) or wasm (tfjs). */
  readonly backend: WorkerBackend;
  readonly seed: number;
  readonly batchSize: number;
  readonly learningRate: number;
  readonly augment: boolean;
  /** --init-model: every worker starts from this model directory's weights instead of random ones. */
  readonly initModel: string | null;
  readonly sync: SyncMode;
  readonly syncEvery: number;
  readonly stallTimeoutMs: number;
  readonly train: SharedSplit;
  readonly test: SharedSplit;
  /** Float64 progress words worker 0 writes after every step (progress-words.ts). */
  readonly progress: SharedArrayBuffer;
}

export type TrainWorkerCall =
  | { readonly method: 'setup'; readonly setup: WorkerSetup }
  /** Sent once every worker has built its model: the exchange is sized by the parameter count. */
  | { readonly method: 'connect'; readonly allReduce: SharedAllReduceBuffers }
  | {
      readonly method: 'epoch';
      readonly epoch: number;
      readonly learningRate: number;
      /** Distort this epoch's images (with setup.augment; the last clean epochs do not). */
      readonly augment: boolean;
      /** This worker's shard of the training set for this epoch, in training order. */
      readonly shard: Uint32Array;
    }
  /** Scores this worker's share of the validation hold-out (a call of its own, outside the epoch's time). */
  | { readonly method: 'validate'; readonly indices: Uint32Array }
  | { readonly method: 'weights' }
  | { readonly method: 'finish'; readonly test: Uint32Array; readonly save: boolean };

export interface SetupReply {
  readonly params: number;
}

export type EpochReply = StepSums;

export interface ValidateReply {
  readonly lossSum: number;
  readonly correct: number;
}

export interface FinishReply {
  readonly predicted: Uint8Array;
  readonly lossSum: number;
  /** The worker asked to save: the model's files, checked to reload to the same predictions. */
  readonly packaged: PackagedModel | null;
}
