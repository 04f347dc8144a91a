// What a training run or `stratus evaluate` measured on the 10k test digits, as report.json and as a
// table for a person. Pure: labels and predictions in, numbers and text out.

import type { LrSchedule } from './recipe.ts';

export const DIGITS = 10;

/** The figures both report.json and `stratus evaluate` give about one model on the test set. */
export interface TestMetrics {
  readonly testSamples: number;
  /** Fraction of the test digits answered right. */
  readonly testAccuracy: number;
  readonly testLoss: number;
  /** perClassAccuracy[d]: fraction of the test images of digit d answered right (recall). */
  readonly perClassAccuracy: number[];
  /** confusionMatrix[actual][predicted]: how many test images of digit `actual` got `predicted`. */
  readonly confusionMatrix: number[][];
}

export interface EpochRecord {
  readonly epoch: number;
  readonly learningRate: number;
  /** Training loss and accuracy: means over the epoch's batches, as trained (dropout, augmentation). */
  readonly loss: number;
  readonly accuracy: number;
  /** On the validation hold-out, in inference mode, after the epoch. */
  readonly valLoss: number;
  readonly valAccuracy: number;
  readonly seconds: number;
  readonly samplesPerSecond: number;
}

/** report.json, written beside the model. */
export interface TrainingReport extends TestMetrics {
  readonly kind: 'stratus-training-report';
  /** The code that trained it (src/version.ts). */
  readonly codeVersion: string;
  /** The version the model is served under (metadata.json's). */
  readonly modelVersion: string;
  readonly arch: string;
  readonly params: number;
  readonly hyperParameters: {
    readonly epochs: number;
    readonly batchSize: number;
    readonly learningRate: number;
    readonly lrDecay: number;
    readonly seed: number;
    readonly maxSamples: number | null;
    readonly augment: boolean;
    /** Present when the last epochs trained on undistorted images (recipe.ts: augmentsEpoch). */
    readonly cleanEpochs?: number;
    readonly schedule: LrSchedule;
    /** Present when the run trained on soft targets (soft-targets.ts): as the recipe gave them. */
    readonly labelSmoothing?: number;
    readonly teachers?: readonly string[];
    readonly distillWeight?: number;
    readonly distillTemperature?: number;
  };
  readonly data: { readonly trainSamples: number; readonly validationSamples: number; readonly md5: Record<string, string> };
  readonly validationAccuracy: number;
  readonly history: EpochRecord[];
  readonly trainedAt: string;
  /** From loading the data to the model written. */
  readonly wallSeconds: number;
  /** Time inside the training epochs only, and the training samples per second over it. */
  readonly trainingSeconds: number;
  readonly samplesPerSecond: number;
  readonly backend: string;
  readonly inferenceMs: { readonly batch1: number; readonly batch64: number };
}

/** What `stratus evaluate --json` prints. */
export interface EvaluationReport extends TestMetrics {
  readonly kind: 'stratus-evaluation';
  readonly codeVersion: string;
  readonly model: { readonly version: string; readonly source: string };
  /** What computed the probabilities: onnx (ONNX Runtime, as the consumer serves by default), wasm or tensorflow (tfjs). */
  readonly backend: string;
  readonly data: { readonly md5: Record<string, string> };
  readonly seconds: number;
}

export function confusionMatrix(actual: ArrayLike<number>, predicted: ArrayLike<number>): number[][] {
  if (actual.length !== predicted.length) throw new Error(`${actual.length} labels but ${predicted.length} predictions`);
  const matrix = Array.from({ length: DIGITS }, () => new Array<number>(DIGITS).fill(0));
  for (let i = 0; i < actual.length; i++) matrix[actual[i]!]![predicted[i]!]!++;
  return matrix;
}

export function testMetrics(actual: ArrayLike<number>, predicted: ArrayLike<number>, testLoss: number): TestMetrics {
  const matrix = confusionMatrix(actual, predicted);
  const right = matrix.reduce((sum, row, d) => sum + row[d]!, 0);
  return {
    testSamples: actual.length,
    testAccuracy: right / Math.max(1, actual.length),
    testLoss,
    perClassAccuracy: matrix.map((row, d) => {
      const total = row.reduce((a, b) => a + b, 0);
      return total === 0 ? 0 : row[d]! / total;
    }),
    confusionMatrix: matrix,
  };
}

const percent = (x: number) => `${(x * 100).toFixed(2)} %`;

/** The metrics as a person reads them: headline, then the confusion matrix with each digit's accuracy. */
export function formatMetrics(metrics: TestMetrics, title: string): string {
  const width = Math.max(5, ...metrics.confusionMatrix.flat().map((n) => String(n).length + 1));
  const cell = (s: string | number) => String(s).padStart(width);
  const lines = [
    title,
    `test accuracy ${percent(metrics.testAccuracy)} (${Math.round(metrics.testAccuracy * metrics.testSamples)}/${metrics.testSamples}), loss ${metrics.testLoss.toFixed(4)}`,
    '',
    'rows: actual digit, columns: predicted digit',
    `     ${Array.from({ length: DIGITS }, (_, d) => cell(d)).join('')}   accuracy`,
    ...metrics.confusionMatrix.map(
      (row, d) => `  ${d}: ${row.map((n) => cell(n)).join('')}   ${percent(metrics.perClassAccuracy[d]!).padStart(8)}`,
    ),
    '',
  ];
  return lines.join('\n');
}
