// What a finished training run writes beside its model: metadata.json (TrainResult) and report.json
// (TrainingReport). One builder for every way of training, so all of them describe a run the same way.
import { VERSION } from '../version.ts';
import type { ArchName } from './arch-names.ts';
import type { TrainingBackend } from './backend-names.ts';
import type { DataSplit } from './data-split.ts';
import { augmentOf, type TrainRecipe } from './recipe.ts';
import { DISTILL_DEFAULTS, wantsTargets } from './soft-targets.ts';
import type { EpochRecord, TestMetrics, TrainingReport } from './report.ts';

/** What metadata.json holds. */
export interface TrainResult {
  readonly version: string;
  readonly arch: ArchName;
  readonly epochs: number;
  readonly batchSize: number;
  readonly seed: number;
  readonly learningRate: number;
  readonly lrDecay: number;
  readonly augment: boolean;
  readonly trainSamples: number;
  /** Feedback samples trained on, and how often each was repeated per epoch (0 without feedback). */
  readonly feedbackSamples: number;
  readonly feedbackRepeat: number;
  /** The model directory training started from (--init-model), or null for random weights. */
  readonly initModel: string | null;
  readonly validationSamples: number;
  readonly validationAccuracy: number;
  readonly testAccuracy: number;
  readonly trainedAt: string;
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  readonly backend: TrainingBackend;
  readonly params: number;
  readonly weightsBytes: number;
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
}

export interface RunFacts {
  readonly recipe: TrainRecipe;
  /** The run's data: sample counts, feedback mix and the MNIST files' checksums come from it. */
  readonly split: Pick<DataSplit, 'data' | 'trainIndices' | 'validationCount' | 'feedback' | 'training'>;
  /** Images per epoch, feedback repeats included: the basis of samples/s. */
  readonly epochSamples: number;
  /** Epochs this attempt trained (fewer than the recipe's when a distributed job resumed). */
  readonly trainedEpochs: number;
  readonly history: readonly EpochRecord[];
  readonly validationAccuracy: number;
  readonly test: TestMetrics;
  readonly params: number;
  readonly weightsBytes: number;
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
  /** performance.now() when the run began, and the time spent in training steps. */
  readonly wallStarted: number;
  readonly trainMs: number;
}

/**
 * A run's one name, in metadata.json, in the registry and wherever `--model DIR` serves it: its arch and
 * when it ended, to the second (`seed-20261204-185221`), so that two runs of one day never collide.
 */
export function runVersion(arch: string, endedAt: Date): string {
  const stamp = endedAt.toISOString().replace(/\.\d+Z$/, '').replaceAll('-', '').replaceAll(':', '').replace('T', '-');
  return `${arch}-${stamp}`;
}

/** A run's one training time: seconds in training steps (what samples/s divides by), to the hundredth. */
export const trainingSeconds = (trainMs: number): number => +(trainMs / 1000).toFixed(2);

/** The soft-target settings a run used, with the defaults it applied; none for a run on plain labels. */
function targetsOf(recipe: TrainRecipe): object {
  if (!wantsTargets(recipe)) return {};
  const { labelSmoothing = 0, teachers = [] } = recipe;
  if (teachers.length === 0) return { labelSmoothing };
  const { distillWeight = DISTILL_DEFAULTS.weight, distillTemperature = DISTILL_DEFAULTS.temperature } = recipe;
  return { labelSmoothing, teachers, distillWeight, distillTemperature };
}

export function runRecords(facts: RunFacts): { result: TrainResult; report: TrainingReport } {
  const { recipe, history, test } = facts;
  const { arch, epochs, batchSize, seed, learningRate, lrDecay } = recipe;
  const augment = augmentOf(recipe);
  const backend = recipe.backend ?? 'wasm';
  const now = new Date();
  const { validationAccuracy } = facts;
  const trainSamples = facts.split.trainIndices.length;
  const validationSamples = facts.split.validationCount;
  const samplesPerSecond = Math.round((facts.epochSamples * facts.trainedEpochs) / (facts.trainMs / 1000));
  const result: TrainResult = {
    version: runVersion(arch, now),
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
    initModel: recipe.initModel ?? null,
    validationSamples,
    validationAccuracy,
    testAccuracy: test.testAccuracy,
    trainedAt: now.toISOString(),
    trainingSeconds: trainingSeconds(facts.trainMs),
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
    hyperParameters: { epochs, batchSize, learningRate, lrDecay, seed, maxSamples: recipe.maxSamples, augment, ...(augment && recipe.cleanEpochs ? { cleanEpochs: recipe.cleanEpochs } : {}), schedule: recipe.schedule ?? 'exponential', ...targetsOf(recipe) },
    data: { trainSamples, validationSamples, md5: facts.split.data.checksums },
    ...test,
    validationAccuracy,
    history: [...history],
    trainedAt: result.trainedAt,
    wallSeconds: +((performance.now() - facts.wallStarted) / 1000).toFixed(3),
    trainingSeconds: result.trainingSeconds,
    samplesPerSecond,
    backend,
    inferenceMs: facts.inferenceMs,
  };
  return { result, report };
}
