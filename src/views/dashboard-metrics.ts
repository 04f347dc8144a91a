// What the dashboard shows of a model version's metrics. ModelVersion.metrics is whatever the trainer
// stored (report.json's fields: src/train/report.ts), from any code version, so nothing is trusted:
// every field is read defensively and a missing or malformed one is simply absent.
import { isJsonObject } from '../protocol/json-object.ts';

export interface EpochPoint {
  readonly epoch: number;
  readonly loss?: number;
  readonly accuracy?: number;
  readonly valLoss?: number;
  readonly valAccuracy?: number;
}

export interface DashboardMetrics {
  readonly testAccuracy?: number;
  readonly validationAccuracy?: number;
  readonly testSamples?: number;
  readonly arch?: string;
  readonly params?: number;
  readonly trainedAt?: string;
  /** Ten fractions (or fewer, when the report had fewer). */
  readonly perClassAccuracy?: readonly number[];
  /** Square, rows = actual digit, columns = predicted digit. */
  readonly confusionMatrix?: readonly (readonly number[])[];
  readonly history: readonly EpochPoint[];
}

const finite = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const text = (value: unknown): string | undefined => (typeof value === 'string' && value.length > 0 ? value : undefined);
const record = (value: unknown): Record<string, unknown> | undefined => (isJsonObject(value) ? value : undefined);

/** A fraction in 0..1, or undefined. */
function fraction(value: unknown): number | undefined {
  const x = finite(value);
  return x !== undefined && x >= 0 && x <= 1 ? x : undefined;
}

// Bounds what a corrupt or hostile document can make the page render.
const MAX_CLASSES = 100;
const MAX_EPOCHS = 1000;

function readPerClass(value: unknown): number[] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CLASSES) return undefined;
  const values = value.map(fraction);
  return values.every((x) => x !== undefined) ? (values as number[]) : undefined;
}

function readMatrix(value: unknown): number[][] | undefined {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CLASSES) return undefined;
  const size = value.length;
  const rows: number[][] = [];
  for (const row of value) {
    if (!Array.isArray(row) || row.length !== size) return undefined;
    const cells = row.map(finite);
    if (!cells.every((x) => x !== undefined && x >= 0)) return undefined;
    rows.push(cells as number[]);
  }
  return rows;
}

function readHistory(value: unknown): EpochPoint[] {
  if (!Array.isArray(value)) return [];
  const points: EpochPoint[] = [];
  value.slice(0, MAX_EPOCHS).forEach((entry, i) => {
    const e = record(entry);
    if (e === undefined) return;
    const point: EpochPoint = {
      epoch: finite(e.epoch) ?? i + 1,
      ...optional('loss', finite(e.loss)),
      ...optional('accuracy', fraction(e.accuracy)),
      ...optional('valLoss', finite(e.valLoss)),
      // Older trainer events call it validationAccuracy.
      ...optional('valAccuracy', fraction(e.valAccuracy ?? e.validationAccuracy)),
    };
    if (Object.keys(point).length > 1) points.push(point);
  });
  return points;
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

export function readDashboardMetrics(metrics: unknown): DashboardMetrics {
  const m = record(metrics) ?? {};
  return {
    ...optional('testAccuracy', fraction(m.testAccuracy)),
    ...optional('validationAccuracy', fraction(m.validationAccuracy)),
    ...optional('testSamples', finite(m.testSamples)),
    ...optional('arch', text(m.arch)),
    ...optional('params', finite(m.params)),
    ...optional('trainedAt', text(m.trainedAt)),
    ...optional('perClassAccuracy', readPerClass(m.perClassAccuracy)),
    ...optional('confusionMatrix', readMatrix(m.confusionMatrix)),
    history: readHistory(m.history),
  };
}
