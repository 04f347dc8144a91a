// What a finished training run writes beside its model: metadata.json (TrainResult) and report.json
// (TrainingReport). One builder for the single-thread and the data-parallel paths, so both describe a
// run the same way.
import { VERSION } from '../version.ts';
import type { ArchName } from './arch-names.ts';
import type { DataSplit } from './data-split.ts';
import type { TrainingBackend } from './backend-names.ts';
import type { EpochRecord, TestMetrics, TrainingReport } from './report.ts';
import type { TrainOptions, TrainResult } from './trainer.ts';

export interface RunFacts {
  readonly options: TrainOptions;
  readonly arch: ArchName;
  readonly augment: boolean;
  readonly backend: TrainingBackend;
  /** The run's data: sample counts, feedback mix and the MNIST files' checksums come from it. */
  readonly split: Pick<DataSplit, 'data' | 'trainIndices' | 'validationCount' | 'feedback' | 'training'>;
  /** Images per epoch, feedback repeats included: the basis of samples/s. */
  readonly epochSamples: number;
  readonly history: readonly EpochRecord[];
  readonly validationAccuracy: number;
  readonly test: TestMetrics;
  readonly params: number;
  readonly weightsBytes: number;
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
  /** performance.now() when the run began, and the time spent in training steps. */
  readonly wallStarted: number;
  readonly trainMs: number;
  /** Seconds from the first epoch to the last, validation included. */
  readonly trainingSeconds: number;
}

export function runRecords(facts: RunFacts): { result: TrainResult; report: TrainingReport } {
  const { options, arch, augment, backend, history, test } = facts;
  const { epochs, batchSize, seed, learningRate, lrDecay } = options;
  const now = new Date();
  const { validationAccuracy } = facts;
  const trainSamples = facts.split.trainIndices.length;
  const validationSamples = facts.split.validationCount;
  const samplesPerSecond = Math.round((facts.epochSamples * epochs) / (facts.trainMs / 1000));
  const result: TrainResult = {
    version: `${arch}-${now.toISOString().slice(0, 10).replaceAll('-', '')}`,
    arch,
    epochs,
    batchSize,
    seed,
    learningRate,
    lrDecay,
    augment,
    trainSamples,
    feedbackSamples: facts.split.feedback.split.count,
    feedbackRepeat: facts.split.training.repeat,
    initModel: options.initModel ?? null,
    validationSamples,
    validationAccuracy,
    testAccuracy: test.testAccuracy,
    trainedAt: now.toISOString(),
    trainingSeconds: Math.round(facts.trainingSeconds),
    samplesPerSecond,
    backend,
    params: facts.params,
    weightsBytes: facts.weightsBytes,
    inferenceMs: facts.inferenceMs,
  };
  const report: TrainingReport = {
    kind: 'stratus-training-report',
    codeVersion: VERSION,
    modelVersion: result.version,
    arch,
    params: facts.params,
    hyperParameters: { epochs, batchSize, learningRate, lrDecay, seed, maxSamples: options.maxSamples, augment },
    data: { trainSamples, validationSamples, md5: facts.split.data.checksums },
    ...test,
    validationAccuracy,
    history: [...history],
    trainedAt: result.trainedAt,
    wallSeconds: +((performance.now() - facts.wallStarted) / 1000).toFixed(3),
    trainingSeconds: +(facts.trainMs / 1000).toFixed(3),
    samplesPerSecond,
    backend,
    inferenceMs: facts.inferenceMs,
  };
  return { result, report };
}
