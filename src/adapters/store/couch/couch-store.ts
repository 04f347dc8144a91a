// Store on a CouchDB server (cluster mode): the databases and documents of ../documents.ts, as PouchStore
// keeps them, so data replicates between the two. Database names get a prefix.
// Results and history entries go out through a group commit (bulk-queue.ts): the batches of one
// process that are written at the same time share one _bulk_docs.
import { BulkQueue, type BulkQueueOptions, type BulkRow } from './bulk-queue.ts';
import { CouchClient, CouchHttpError, type CouchClientOptions, type CouchRequest } from './couch-client.ts';
import { DATABASES, feedbackDoc, historyKey, MODEL_JSON, newestFeedback, resultDoc, SERVING_VERSION, sessionRange, toModelVersion, toResult, upsert, WEIGHTS_BIN, type DatabaseName, type Doc, type FeedbackDoc, type HistoryDoc, type ModelDoc, type ResultDoc, type SettingDoc } from '../documents.ts';
import { StoreError, type FeedbackSample, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store } from '../store.ts';

export interface CouchStoreOptions extends CouchClientOptions {
  /** Prepended to every database name (default `stratus_`), so several deployments share one server. */
  readonly prefix?: string;
  /** Group commit of results and history (see bulk-queue.ts); default 1 request at once, 512 docs,
   * at most one request per 200 ms under steady load. */
  readonly bulk?: Partial<BulkQueueOptions>;
}

// One at once: what a process writes meanwhile waits and goes out as one bigger request. A CouchDB-API
// server pays mostly per request (bench/couch-store.ts, 16-result batches, 4 per store at once: 32
// documents a request and ~20% less server CPU per result than with 2 at once; never more with 2 calls).
// And under steady load at most one request per 200 ms: pouchdb-server spends ~4 ms of CPU per
// _bulk_docs whatever it holds, and a consumer's results wait only for their acknowledgement (the Kafka
// offset, itself committed every 250 ms), not for their answer. bench/cluster.ts, 2 consumers at ~1,000
// results/s each: 40 ms → 183 µs of server CPU per result, 100 ms → 138, 200 ms → 125.
const DEFAULT_BULK: BulkQueueOptions = Object.freeze({ maxInFlight: 1, maxDocs: 512, minIntervalMs: 200 });

/** Attachments as CouchDB's JSON API carries them: base64 text. */
type CouchModelDoc = ModelDoc<Record<string, Partial<{ content_type: string; data: string }>>>;
type AllDocs<T> = { rows: { id: string; value: { rev: string }; doc?: T | null; error?: string }[] };

export class CouchStore implements Store {
  readonly name = 'couchdb';
  private client: CouchClient | null = null;
  private readonly prefix: string;
  private readonly resultWrites: BulkQueue;
  private readonly historyWrites: BulkQueue;

  constructor(private readonly options: CouchStoreOptions) {
    this.prefix = options.prefix ?? 'stratus_';
    const bulk = { ...DEFAULT_BULK, ...options.bulk };
    this.resultWrites = new BulkQueue((docs) => this.bulk(this.db('results'), docs), bulk);
    this.historyWrites = new BulkQueue((docs) => this.bulk(this.db('history'), docs), bulk);
  }

  async open(): Promise<void> {
    const client = new CouchClient(this.options);
    this.client = client;
    try {
      await Promise.all(DATABASES.map((name) => this.ensureDatabase(this.db(name))));
    } catch (error) {
      client.close();
      this.client = null;
      throw error;
    }
    client.startPinging();
  }

  async close(): Promise<void> {
    this.client?.close();
  }

  healthy(): boolean {
    return this.client?.healthy ?? false;
  }

  async saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]> {
    if (results.length === 0) return [];
    this.db('results'); // a closed store fails here, not inside a group another caller's write shares
    const rows = await this.resultWrites.write(results.map(resultDoc));
    // A retried request whose first try did land answers `conflict` too: 'exists' then, which is still true.
    const outcomes = rows.map((row, i): SaveOutcome => {
      if (row.ok) return 'created';
      if (row.error === 'conflict') return 'exists';
      throw new StoreError(`could not store result ${results[i]?.id}: ${row.reason ?? row.error}`);
    });
    const history = results.filter((result, i) => outcomes[i] === 'created' && result.sessionId !== undefined);
    // A result already stored may have lost its history entry (the process or the server went away
    // between the two writes): index it again from the stored copy, whose createdAt fixes the key. (The
    // price: a redelivery that arrives after its session was cleared puts that one entry back.)
    const existing = results.filter((_, i) => outcomes[i] === 'exists').map((result) => result.id);
    if (existing.length > 0) history.push(...(await this.storedWithSession(existing)));
    if (history.length > 0) {
      const written = await this.historyWrites.write(history.map((result) => ({ _id: historyKey(result), result })));
      const failed = written.find((row) => !row.ok && row.error !== 'conflict');
      if (failed) throw new StoreError(`could not index result in its session: ${failed.reason ?? failed.error}`);
    }
    return outcomes;
  }

  async getResult(id: string): Promise<PredictionResult | null> {
    const doc = await this.getOrNull<ResultDoc>(this.db('results'), id);
    return doc ? toResult(doc) : null;
  }

  async sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    const page = await this.request<AllDocs<HistoryDoc>>({
      db: this.db('history'),
      path: '_all_docs',
      qs: { ...sessionRange(sessionId, true), descending: true, include_docs: true, limit },
    });
    return page.rows.flatMap((row) => (row.doc ? [row.doc.result] : []));
  }

  async clearSession(sessionId: string): Promise<number> {
    const history = this.db('history');
    const page = await this.request<AllDocs<HistoryDoc>>({
      db: history,
      path: '_all_docs',
      qs: sessionRange(sessionId, false),
    });
    if (page.rows.length === 0) return 0;
    const rows = await this.bulk(history, page.rows.map((row) => ({ _id: row.id, _rev: row.value.rev, _deleted: true })));
    return rows.filter((row) => row.ok).length;
  }

  async saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    const doc: CouchModelDoc = {
      ...meta,
      _id: meta.version,
      _attachments: {
        [MODEL_JSON]: { content_type: 'application/json', data: Buffer.from(files.modelJson).toString('base64') },
        [WEIGHTS_BIN]: { content_type: 'application/octet-stream', data: Buffer.from(files.weightsBin).toString('base64') },
      },
    };
    try {
      await this.request({ method: 'PUT', db: this.db('models'), path: encodeURIComponent(meta.version), body: doc });
      return 'created';
    } catch (error) {
      if (error instanceof CouchHttpError && error.statusCode === 409) return 'exists';
      throw error;
    }
  }

  async listModels(): Promise<ModelVersion[]> {
    const page = await this.request<AllDocs<CouchModelDoc>>({ db: this.db('models'), path: '_all_docs', qs: { include_docs: true } });
    return page.rows
      .flatMap((row) => (row.doc ? [toModelVersion(row.doc)] : []))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async loadModel(version: string): Promise<ModelFiles | null> {
    // One request: attachments come inline as base64 in the JSON document.
    const doc = await this.getOrNull<CouchModelDoc>(this.db('models'), version, { attachments: true });
    if (!doc) return null;
    return { modelJson: attachmentBytes(doc, MODEL_JSON), weightsBin: attachmentBytes(doc, WEIGHTS_BIN) };
  }

  async getServingVersion(): Promise<string | null> {
    return (await this.getOrNull<SettingDoc>(this.db('settings'), SERVING_VERSION))?.value ?? null;
  }

  async setServingVersion(version: string): Promise<void> {
    await upsert(this.access<SettingDoc>(this.db('settings')), { _id: SERVING_VERSION, value: version });
  }

  async saveFeedback(sample: FeedbackSample): Promise<void> {
    await upsert(this.access<FeedbackDoc>(this.db('feedback')), feedbackDoc(sample));
  }

  async listFeedback(limit: number): Promise<FeedbackSample[]> {
    const page = await this.request<AllDocs<FeedbackDoc>>({ db: this.db('feedback'), path: '_all_docs', qs: { include_docs: true } });
    return newestFeedback(page.rows.map((row) => row.doc ?? undefined), limit);
  }

  /** The full name of one of the store's databases; throws once the store is closed. */
  private db(name: DatabaseName): string {
    if (!this.client) throw new StoreError('store is closed');
    this.client.assertOpen();
    return `${this.prefix}${name}`;
  }

  /** One call; if the server lost the database meanwhile (restarted empty, or it was deleted), makes it again. */
  private async request<T>(request: CouchRequest & { db: string }): Promise<T> {
    try {
      return await this.client!.request<T>(request);
    } catch (error) {
      if (!(error instanceof CouchHttpError && error.missingDatabase)) throw error;
      await this.ensureDatabase(request.db);
      return this.client!.request<T>(request);
    }
  }

  private async ensureDatabase(name: string): Promise<void> {
    const client = this.client!;
    // Looking first lets a user who may not create databases work with ones an admin made.
    try {
      await client.request({ db: name });
      return;
    } catch (error) {
      if (!(error instanceof CouchHttpError && error.statusCode === 404)) throw error;
    }
    try {
      await client.request({ method: 'PUT', db: name });
    } catch (error) {
      // 412: another process created it between our look and our PUT.
      if (!(error instanceof CouchHttpError && error.statusCode === 412)) throw error;
    }
  }

  private async bulk(db: string, docs: readonly object[]): Promise<BulkRow[]> {
    const rows = await this.request<BulkRow[]>({ method: 'POST', db, path: '_bulk_docs', body: { docs } });
    if (!Array.isArray(rows) || rows.length !== docs.length) {
      throw new StoreError(`couchdb ${db}/_bulk_docs answered ${Array.isArray(rows) ? rows.length : 'no'} rows for ${docs.length} documents`);
    }
    return rows;
  }

  /** The stored results among `ids` that belong to a session (for re-indexing their history). */
  private async storedWithSession(ids: readonly string[]): Promise<PredictionResult[]> {
    const page = await this.request<AllDocs<ResultDoc>>({
      method: 'POST',
      db: this.db('results'),
      path: '_all_docs',
      qs: { include_docs: true },
      body: { keys: ids },
    });
    return page.rows.flatMap((row) => (row.doc && row.doc.sessionId !== undefined ? [toResult(row.doc)] : []));
  }

  private async getOrNull<T extends Doc>(db: string, id: string, qs?: Record<string, unknown>): Promise<T | null> {
    try {
      return await this.request<T>({ db, path: encodeURIComponent(id), ...(qs ? { qs } : {}) });
    } catch (error) {
      if (error instanceof CouchHttpError && error.statusCode === 404) return null;
      throw error;
    }
  }

  private access<T extends Doc>(db: string) {
    return {
      get: (id: string) => this.getOrNull<T>(db, id),
      put: (doc: T) => this.request({ method: 'PUT', db, path: encodeURIComponent(doc._id), body: doc }),
      isConflict: (error: unknown) => error instanceof CouchHttpError && error.statusCode === 409,
    };
  }
}

function attachmentBytes(doc: CouchModelDoc, name: string): Uint8Array {
  const data = doc._attachments?.[name]?.data;
  if (typeof data !== 'string') throw new StoreError(`model ${doc._id} has no ${name} attachment`);
  const bytes = Buffer.from(data, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
