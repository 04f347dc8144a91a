// How both stores lay out their documents: PouchStore (locally) and CouchStore (cluster mode) keep the
// same databases with the same documents, so data moves between them by replication. Results keyed by
// request id and a per-session history index, both in one database per period (periods.ts); and three
// databases kept whole: model versions whose files are attachments, settings (the serving version), and
// feedback samples. Also the one upsert both stores use.
import { retry } from '../../flow/retry.ts';
import { imageBytes } from '../../protocol/image.ts';
import type { FeedbackSample, ModelVersion, PredictionResult } from './store.ts';

/** The databases that are not split by period. */
export const DATABASES = ['models', 'settings', 'feedback'] as const;
export type DatabaseName = (typeof DATABASES)[number];

export type Doc = { _id: string; _rev?: string };
export type ResultDoc = Omit<PredictionResult, 'id'> & Doc;
export type SettingDoc = Doc & { value: string };
/** The image as base64 bytes (`image`); samples stored before that kept `pixels` as numbers. */
export type FeedbackDoc = Omit<FeedbackSample, 'id' | 'pixels'> & Doc & { image?: string; pixels?: readonly number[] };
/** `A`: attachments as the store's client sends and receives them (Buffers for PouchDB, base64 for CouchDB). */
export type ModelDoc<A = unknown> = ModelVersion & Doc & { _attachments?: A };

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';
/** Optional: versions stored before it, and models the ONNX export cannot handle, have none. */
export const MODEL_ONNX = 'model.onnx';
/** The settings document holding the version consumers should serve. */
export const SERVING_VERSION = 'serving-version';

export function resultDoc(result: PredictionResult): ResultDoc {
  const { id, ...rest } = result;
  return { _id: id, ...rest };
}

export function toResult(doc: ResultDoc): PredictionResult {
  const { _id, _rev, ...rest } = doc;
  return { id: _id, ...rest };
}

/** A history entry's id: the session, then time, so that one range query lists a session in order; then
 * the result's id, which is all the entry holds (entries written before 2026-12-05 hold the result too). */
export function historyKey(result: PredictionResult): string {
  return `${result.sessionId}\u0001${result.createdAt}\u0001${result.id}`;
}

/** The id of the result a history entry names. */
export function resultIdOf(historyKey: string): string {
  return historyKey.slice(historyKey.lastIndexOf('\u0001') + 1);
}

// Sorts after every character a history key uses, so one range query returns a whole session.
const SESSION_END = '\ufff0';

/** The `_all_docs` key range of a session's history entries, oldest first or newest first. */
export function sessionRange(sessionId: string, newestFirst: boolean): { startkey: string; endkey: string } {
  const first = `${sessionId}\u0001`;
  const last = `${sessionId}\u0001${SESSION_END}`;
  return newestFirst ? { startkey: last, endkey: first } : { startkey: first, endkey: last };
}

export function toModelVersion(doc: ModelDoc): ModelVersion {
  const { _id, _rev, _attachments, ...meta } = doc;
  return meta;
}

/** The sample's document, named after its image (see FeedbackSample.id). */
export function feedbackDoc(sample: Omit<FeedbackSample, 'id'>): FeedbackDoc {
  // A whole sample passed in keeps its old id out: the image names it.
  const { pixels, id: _given, ...rest } = sample as Omit<FeedbackSample, 'id'> & { id?: string };
  const bytes = imageBytes(Float32Array.from(pixels));
  const digest = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
  return { _id: `image-${digest.slice(0, 32)}`, ...rest, image: Buffer.from(bytes).toString('base64') };
}

export function toFeedback(doc: FeedbackDoc): FeedbackSample {
  const { _id, _rev, image, pixels, ...rest } = doc;
  // Whole 1/255 steps as doubles: what was saved on a step reads back equal.
  return { id: _id, ...rest, pixels: image !== undefined ? Array.from(Buffer.from(image, 'base64'), (byte) => byte / 255) : [...(pixels ?? [])] };
}

/** The samples of an `_all_docs` page, newest first, at most `limit`. People label a few samples by
 * hand, not millions: reading them all and sorting is cheaper than keeping an index. */
export function newestFeedback(docs: readonly (FeedbackDoc | null | undefined)[], limit: number): FeedbackSample[] {
  return docs
    .flatMap((doc) => (doc ? [toFeedback(doc)] : []))
    .sort((a, b) => b.createdAt.localeCompare(a.createdAt))
    .slice(0, limit);
}

/** What upsert needs of a database: read a document (null when missing), write one, tell a conflict. */
export interface DocumentAccess<T extends Doc> {
  get(id: string): Promise<T | null>;
  put(doc: T): Promise<unknown>;
  isConflict(error: unknown): boolean;
}

/** Writes the document over whatever revision is there; tries again if another writer got in between its
 * read and its write. Writers of one document at once (a label clicked again and again, two tabs) each
 * pause a random few milliseconds before they try again, so they land one after another, not together
 * again: a dozen at once all land, the last one wins. */
export async function upsert<T extends Doc>(db: DocumentAccess<T>, doc: T): Promise<void> {
  const write = async () => {
    const current = await db.get(doc._id);
    await db.put({ ...doc, ...(current ? { _rev: current._rev } : {}) });
  };
  await retry(write, UPSERT_RETRY, { retriable: (error) => db.isConflict(error) });
}

const UPSERT_RETRY = Object.freeze({ firstDelayMs: 2, maxDelayMs: 50, jitter: true, maxAttempts: 16 });
