// What a training run tells its caller while it goes (progress.ts turns it into a bar or log lines).
import type { ArchName } from './arch-names.ts';

/** Running figures of the epoch so far, after every step. */
export interface BatchProgress {
  readonly batch: number;
  readonly batches: number;
  /** Samples of the epoch trained so far (by every worker or rank together). */
  readonly samples: number;
  /** Means over the epoch's batches so far (training mode: dropout on, augmented images). */
  readonly loss: number;
  readonly accuracy: number;
}

export type TrainEvent =
  | { kind: 'start'; arch: ArchName; params: number; trainSamples: number; validationSamples: number; epochs: number; batchSize: number }
  | ({ kind: 'batch'; epoch: number; epochs: number } & BatchProgress)
  | {
      kind: 'epoch';
      epoch: number;
      epochs: number;
      loss: number;
      accuracy: number;
      validationLoss: number;
      validationAccuracy: number;
      seconds: number;
      samplesPerSecond: number;
    }
  | { kind: 'tested'; testAccuracy: number; trainingSeconds: number }
  /** `onnxSkipped`: why the directory has no model.onnx (the ONNX export failed); absent when it has one. */
  | { kind: 'saved'; outDir: string; weightsBytes: number; inferenceMs: { batch1: number; batch64: number }; onnxSkipped?: string };

export type TrainLog = (event: TrainEvent) => void;
