// Where answers and models are kept. Implementations: PouchStore (leveldb on disk, or memory; WorkerStore
// runs it on a thread of its own) and, in cluster mode, CouchStore; registry.ts lists them with what each
// can do, documents.ts is the layout they share. All must pass test/adapters/store/store.conformance.ts.
import type { SweepTotals } from '../../metrics.ts';
import type { PredictionResult } from '../../protocol/result.ts';

// SweepTotals (what the sweeps did since the store opened) is defined where /metrics reads it.
export type { PredictionResult, SweepTotals };

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
  /** model.onnx, the same model in ONNX, when the trainer could write one; versions without it are
   * exported from the two files above when a consumer on onnxruntime loads them. */
  readonly modelOnnx?: Uint8Array;
}

/** A user's answer to "was this right?": the digit they meant, with the image as it was classified, so
 * the trainer can learn from it (--include-feedback). Training data: kept apart from the results, not
 * expired with them, bounded by a count of its own. */
export interface FeedbackSample {
  /** Named by the store after the image: one label per distinct image, so answering again (or labelling
   * the same drawing sent twice) replaces the label rather than adding a sample. */
  readonly id: string;
  readonly requestId: string;
  readonly label: number;
  readonly predicted: number;
  readonly modelVersion: string;
  /** The 784 pixels the model saw (0..1, white on black; kept at 8 bits, as they travel). */
  readonly pixels: readonly number[];
  /** ISO 8601. */
  readonly createdAt: string;
  /** The session whose prediction was labelled; none for samples an operator imported. */
  readonly sessionId?: string;
  /** Whether an admin has looked at the label: only accepted samples are trained on (see FeedbackState). */
  readonly state: FeedbackState;
}

/**
 * A visitor may label their own predictions anything, so a label is not trusted until an admin accepted it
 * (POST /api/feedback/:id/accept): `pending` until then, or `rejected`. A sample with no session was put
 * there by an operator (scripts/import-pendigits-feedback.ts), not by a visitor: it is `accepted` unless
 * saved otherwise. Samples stored before there were states read the same way. A review holds for an image
 * and its label: labelling the same image again with the same label keeps it; another label makes it
 * `pending` again.
 */
export type FeedbackState = 'pending' | 'accepted' | 'rejected';

/** A sample to save: its id is the store's to give, its state defaults as FeedbackState says. */
export type NewFeedback = Omit<FeedbackSample, 'id' | 'state'> & { readonly state?: FeedbackState };

/** Which samples listFeedback returns. */
export interface FeedbackQuery {
  /** Only those in this state; every state when absent. */
  readonly state?: FeedbackState;
}

/**
 * At most this many samples of any one session are listed (in each state) and, when the feedback is over
 * its limit, kept: one visitor cannot fill what the trainer reads, the review queue or the store and push
 * everyone else's samples out. A person labels a few dozen digits in a visit; a client labelling thousands
 * is flooding. Samples without a session (an operator's imports) are not counted.
 */
export const FEEDBACK_PER_SESSION = 64;

export type SaveOutcome = 'created' | 'exists';

/** How long what the store holds is kept. */
export interface RetentionPolicy {
  /** Results and history entries are dropped this long after they were written (within a period more). */
  readonly retentionMs: number;
  /** The entries a session's history lists, newest first. The limit applies as history is read: what
   * is stored beyond it goes with the retention (deleting a document gives no space back, see docs/storage.md). */
  readonly historyLimit: number;
  /** Feedback samples kept: over it, a sweep drops a session's samples past its share first, then rejected,
   * pending and (last) accepted ones, oldest first. */
  readonly feedbackLimit: number;
  /** A session's share of the feedback listed and kept, per state; default FEEDBACK_PER_SESSION. */
  readonly feedbackPerSession?: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = Object.freeze({ retentionMs: 30 * 86_400_000, historyLimit: 100, feedbackLimit: 100_000 });

/** What one sweep took away. */
export interface SweepReport {
  /** Whole period databases of results and history. */
  readonly databasesDropped: number;
  /** The oldest feedback samples beyond the limit. */
  readonly feedbackTrimmed: number;
}

export interface Store {
  readonly name: string;
  open(): Promise<void>;
  close(): Promise<void>;
  healthy(): boolean;
  /** One outcome per result, in order; a result whose id is already stored is left as it was. */
  saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]>;
  getResult(id: string): Promise<PredictionResult | null>;
  /** The session's results, newest first, at most min(limit, the history limit). */
  sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]>;
  /** Forgets the session's history (the results themselves stay, keyed by request id). Returns how many. */
  clearSession(sessionId: string): Promise<number>;
  saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome>;
  /** Newest first. */
  listModels(): Promise<ModelVersion[]>;
  /** Removes a version and its files; false when there was none. */
  deleteModel(version: string): Promise<boolean>;
  loadModel(version: string): Promise<ModelFiles | null>;
  /** The version consumers should serve, or null before any was promoted. Last write wins. */
  getServingVersion(): Promise<string | null>;
  setServingVersion(version: string): Promise<void>;
  /** Creates the sample, or replaces the one of the same image (keeping its state when the label is the
   * same); returns its id. */
  saveFeedback(sample: NewFeedback): Promise<string>;
  /** Newest first, at most `limit`, and at most the per-session share (feedbackPerSession) of any one
   * session: the newest of its samples. This is the window every reader gets (the trainer, the export,
   * the admin's review), so no reader can be flooded by one session. */
  listFeedback(limit: number, query?: FeedbackQuery): Promise<FeedbackSample[]>;
  /** An admin's decision on a sample, applied only while it is still labelled `label` (the label the admin
   * saw: the visitor may have changed it since). Returns the sample as it now stands (with another label
   * and its state unchanged when the label moved on), or null when there is no such sample. */
  reviewFeedback(id: string, label: number, state: Exclude<FeedbackState, 'pending'>): Promise<FeedbackSample | null>;
  /** Drops what is past the retention policy; the store also does so by itself, every half period. */
  sweep(now?: number): Promise<SweepReport>;
  sweepTotals(): Promise<SweepTotals>;
}

export class StoreError extends Error {
  override readonly name: string = 'StoreError';
}

/** The store's files are held by another process (a second stratus on the same data directory). */
export class StoreInUseError extends StoreError {
  override readonly name = 'StoreInUseError';
}
