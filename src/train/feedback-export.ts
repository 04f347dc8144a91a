// `stratus feedback export --out FILE`: the feedback samples a trainer would take from a store (accepted by
// an admin, a fair share per session: trainingFeedback) as JSON lines, one sample a line, newest first:
// training data that outlives the store's retention and can go to any other trainer. Unreviewed labels
// stay behind, or the export would carry what --include-feedback refuses. So does the session a sample
// came from: it says who drew it, not what it shows.
import { rename, writeFile } from 'node:fs/promises';
import type { FeedbackSample, Store } from '../adapters/store/store.ts';
import { trainingFeedback } from './feedback.ts';

export interface ExportedSample {
  readonly id: string;
  readonly label: number;
  /** The digit the model answered, or -1 for samples no model answered (imported ones). */
  readonly predicted: number;
  readonly modelVersion: string;
  readonly requestId: string;
  readonly createdAt: string;
  /** 784 grey levels 0..255, row by row, white digit on black (as MNIST's IDX files). */
  readonly pixels: number[];
}

export function exportedSample(sample: FeedbackSample): ExportedSample {
  const { id, label, predicted, modelVersion, requestId, createdAt } = sample;
  return { id, label, predicted, modelVersion, requestId, createdAt, pixels: sample.pixels.map((value) => Math.round(Math.min(1, Math.max(0, value)) * 255)) };
}

/** Writes the file whole or not at all (a partial file is never left under its name); returns the count. */
export async function exportFeedback(store: Store, out: string): Promise<number> {
  const samples = await trainingFeedback(store);
  const text = samples.map((sample) => `${JSON.stringify(exportedSample(sample))}\n`).join('');
  const partial = `${out}.partial`;
  await writeFile(partial, text);
  await rename(partial, out);
  return samples.length;
}
