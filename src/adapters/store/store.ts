// Where answers and models are kept. Implementations: PouchStore (leveldb on disk, or memory; WorkerStore
// runs it on a thread of its own) and, in cluster mode, CouchStore; registry.ts lists them with what each
// can do, documents.ts is the layout they share. All must pass test/adapters/store/store.conformance.ts.
import type { PredictionResult } from '../../protocol/result.ts';

export type { PredictionResult };

export interface ModelVersion {
  readonly version: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** Whatever the trainer measured: accuracy, curves, confusion matrix. */
  readonly metrics?: Readonly<Record<string, unknown>>;
}

export interface ModelFiles {
  readonly modelJson: Uint8Array;
  readonly weightsBin: Uint8Array;
}

/** A user's answer to "was this right?": the digit they meant, with the image as it was classified, so
 * the trainer can learn from it (--include-feedback). */
export interface FeedbackSample {
  /** `<request id>/<digit index>`: one label per drawn digit; answering again replaces the label. */
  readonly id: string;
  readonly requestId: string;
  readonly label: number;
  readonly predicted: number;
  readonly modelVersion: string;
  /** The 784 pixels the model saw (0..1, white on black). */
  readonly pixels: readonly number[];
  /** ISO 8601. */
  readonly createdAt: string;
  readonly sessionId?: string;
}

export type SaveOutcome = 'created' | 'exists';

export interface Store {
  readonly name: string;
  open(): Promise<void>;
  close(): Promise<void>;
  healthy(): boolean;
  /** One outcome per result, in order; a result whose id is already stored is left as it was. */
  saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]>;
  getResult(id: string): Promise<PredictionResult | null>;
  /** The session's results, newest first. */
  sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]>;
  /** Forgets the session's history (the results themselves stay, keyed by request id). Returns how many. */
  clearSession(sessionId: string): Promise<number>;
  saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome>;
  /** Newest first. */
  listModels(): Promise<ModelVersion[]>;
  loadModel(version: string): Promise<ModelFiles | null>;
  /** The version consumers should serve, or null before any was promoted. Last write wins. */
  getServingVersion(): Promise<string | null>;
  setServingVersion(version: string): Promise<void>;
  /** Creates or replaces the sample with this id. */
  saveFeedback(sample: FeedbackSample): Promise<void>;
  /** Newest first. */
  listFeedback(limit: number): Promise<FeedbackSample[]>;
}

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** The store's files are held by another process (a second stratus on the same data directory). */
export class StoreInUseError extends StoreError {
  override readonly name = 'StoreInUseError';
}
