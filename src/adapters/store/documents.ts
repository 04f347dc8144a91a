// How both stores lay out their documents: PouchStore (locally) and CouchStore (cluster mode) keep the
// same databases with the same documents, so data moves between them by replication. Results keyed by
// request id and a per-session history index, both in one database per period (periods.ts); and three
// databases kept whole: model versions whose files are attachments, settings (the serving version), and
// feedback samples. Also the one upsert both stores use.
import { retry } from '../../flow/retry.ts';
import { imageBytes } from '../../protocol/image.ts';
import type { FeedbackQuery, FeedbackSample, FeedbackState, ModelVersion, NewFeedback, PredictionResult } from './store.ts';

/** The databases that are not split by period. */
export const DATABASES = ['models', 'settings', 'feedback'] as const;
export type DatabaseName = (typeof DATABASES)[number];

export type Doc = { _id: string; _rev?: string };
export type ResultDoc = Omit<PredictionResult, 'id'> & Doc;
export type SettingDoc = Doc & { value: string };
/** The image as base64 bytes (`image`); samples stored before that kept `pixels` as numbers, and before
 * reviews no `state` (stateOf says what they read as). */
export type FeedbackDoc = Omit<FeedbackSample, 'id' | 'pixels' | 'state'> & Doc & { image?: string; pixels?: readonly number[]; state?: FeedbackState };
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
export function feedbackDoc(sample: NewFeedback): FeedbackDoc {
  // A whole sample passed in keeps its old id out: the image names it.
  const { pixels, id: _given, state, ...rest } = sample as NewFeedback & { id?: string };
  const bytes = imageBytes(Float32Array.from(pixels));
  const digest = new Bun.CryptoHasher('sha256').update(bytes).digest('hex');
  return { _id: `image-${digest.slice(0, 32)}`, ...rest, state: state ?? defaultState(rest.sessionId), image: Buffer.from(bytes).toString('base64') };
}

/** What a sample's state is when none was given: a visitor's label waits for review, an operator's is taken. */
const defaultState = (sessionId: string | undefined): FeedbackState => (sessionId === undefined ? 'accepted' : 'pending');

export function stateOf(doc: FeedbackDoc): FeedbackState {
  return doc.state ?? defaultState(doc.sessionId);
}

export function toFeedback(doc: FeedbackDoc): FeedbackSample {
  const { _id, _rev, image, pixels, state: _state, ...rest } = doc;
  // Whole 1/255 steps as doubles: what was saved on a step reads back equal.
  const decoded = image !== undefined ? Array.from(Buffer.from(image, 'base64'), (byte) => byte / 255) : [...(pixels ?? [])];
  return { id: _id, ...rest, pixels: decoded, state: stateOf(doc) };
}

/** A sample saved over `current` (the same image): a review holds for the image and its label, so the
 * same label again keeps the state the sample had; another label starts over. */
export function relabelled(current: FeedbackDoc | null, next: FeedbackDoc): FeedbackDoc {
  return current && current.label === next.label ? { ...next, state: stateOf(current) } : next;
}

const newestFirst = (a: FeedbackDoc, b: FeedbackDoc) => b.createdAt.localeCompare(a.createdAt);

/**
 * The samples of an `_all_docs` page in `query`'s state, newest first, at most `limit`, and at most
 * `perSession` of any one session (its newest): the window every reader of the feedback gets. People
 * label a few samples by hand, not millions: reading them all and sorting is cheaper than keeping an
 * index. Only the samples listed have their images decoded.
 */
export function feedbackWindow(docs: readonly (FeedbackDoc | null | undefined)[], limit: number, perSession: number, query: FeedbackQuery = {}): FeedbackSample[] {
  const candidates = docs.filter((doc): doc is FeedbackDoc => !!doc && (query.state === undefined || stateOf(doc) === query.state)).sort(newestFirst);
  const surplus = pastShare(candidates, perSession, (doc) => doc.sessionId);
  return candidates.filter((doc) => !surplus.has(doc)).slice(0, limit).map(toFeedback);
}

/** Of samples sorted newest first, those past `perSession` among the ones of their session (`shareOf`
 * names it; undefined: an operator's sample, never counted). */
function pastShare(newestFirst: readonly FeedbackDoc[], perSession: number, shareOf: (doc: FeedbackDoc) => string | undefined): Set<FeedbackDoc> {
  const taken = new Map<string, number>();
  const surplus = new Set<FeedbackDoc>();
  for (const doc of newestFirst) {
    const share = shareOf(doc);
    if (share === undefined) continue;
    const count = taken.get(share) ?? 0;
    if (count >= perSession) surplus.add(doc);
    else taken.set(share, count + 1);
  }
  return surplus;
}

/**
 * The samples in the order a trim drops them: first those past their session's share in their state
 * (no reader lists them), then the rejected, the pending and last the accepted ones, oldest first within
 * each. So a flood, from one session or from many, wears away unreviewed samples; the reviewed ones that
 * training uses go only when nothing else is left.
 */
export function trimOrder(docs: readonly FeedbackDoc[], perSession: number): FeedbackDoc[] {
  const surplus = pastShare([...docs].sort(newestFirst), perSession, (doc) => (doc.sessionId === undefined ? undefined : `${stateOf(doc)}\u0000${doc.sessionId}`));
  const rank = (doc: FeedbackDoc) => (surplus.has(doc) ? 0 : TRIM_RANK[stateOf(doc)]);
  return [...docs].sort((a, b) => rank(a) - rank(b) || a.createdAt.localeCompare(b.createdAt));
}

const TRIM_RANK: Readonly<Record<FeedbackState, number>> = { rejected: 1, pending: 2, accepted: 3 };

/** Ids a sample can have: never one of the database's own (`_all_docs`, `_design/…`). */
export function isFeedbackId(id: string): boolean {
  return id.length > 0 && id.length <= 128 && !id.startsWith('_');
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
 * again: a dozen at once all land, the last one wins. `merge` makes the document written from the one
 * there (if any) and the one given. */
export async function upsert<T extends Doc>(db: DocumentAccess<T>, doc: T, merge: (current: T | null, next: T) => T = (_, next) => next): Promise<void> {
  const write = async () => {
    const current = await db.get(doc._id);
    await db.put({ ...merge(current, doc), ...(current ? { _rev: current._rev } : {}) });
  };
  await retry(write, UPSERT_RETRY, { retriable: (error) => db.isConflict(error) });
}

/** Store.reviewFeedback on a database: the state is written only over the revision whose label was read,
 * so a label changed meanwhile is never accepted in the old one's place (a conflict reads it again). */
export async function reviewFeedbackDoc(db: DocumentAccess<FeedbackDoc>, id: string, label: number, state: FeedbackState): Promise<FeedbackSample | null> {
  if (!isFeedbackId(id)) return null;
  const attempt = async (): Promise<FeedbackSample | null> => {
    const current = await db.get(id);
    if (!current) return null;
    if (current.label !== label || stateOf(current) === state) return toFeedback(current);
    const reviewed = { ...current, state };
    await db.put(reviewed);
    return toFeedback(reviewed);
  };
  return retry(attempt, UPSERT_RETRY, { retriable: (error) => db.isConflict(error) });
}

const UPSERT_RETRY = Object.freeze({ firstDelayMs: 2, maxDelayMs: 50, jitter: true, maxAttempts: 16 });
