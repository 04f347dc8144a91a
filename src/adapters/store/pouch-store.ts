// Store on PouchDB: leveldb directories under --data-dir for the local demo, or the memory adapter for
// tests and throwaway runs. The databases and documents of documents.ts, as CouchStore keeps them.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PouchDB } from '../../embedded/pouchdb.ts';
import { feedbackDoc, historyKey, MODEL_JSON, newestFeedback, resultDoc, SERVING_VERSION, sessionRange, toModelVersion, toResult, upsert, WEIGHTS_BIN, type Doc, type FeedbackDoc, type HistoryDoc, type ModelDoc, type ResultDoc, type SettingDoc } from './documents.ts';
import { StoreError, StoreInUseError, type FeedbackSample, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store } from './store.ts';

export interface PouchStoreOptions {
  /** 'leveldb' keeps data in `directory`; 'memory' forgets it on close. */
  readonly adapter: 'leveldb' | 'memory';
  readonly directory: string;
}

export const pouchStoreName = (options: PouchStoreOptions): string => (options.adapter === 'memory' ? 'memory' : 'pouchdb');

interface Databases {
  readonly results: PouchDB.Database<ResultDoc>;
  readonly history: PouchDB.Database<HistoryDoc>;
  readonly models: PouchDB.Database<ModelDoc<PouchDB.Core.Attachments>>;
  readonly settings: PouchDB.Database<SettingDoc>;
  readonly feedback: PouchDB.Database<FeedbackDoc>;
}

export class PouchStore implements Store {
  /** As the registry names it: a memory adapter is the `memory` store, leveldb the `pouchdb` one. */
  readonly name: string;
  private databases: Databases | null = null;

  constructor(private readonly options: PouchStoreOptions) {
    this.name = pouchStoreName(options);
  }

  async open(): Promise<void> {
    if (this.options.adapter === 'leveldb') await mkdir(this.options.directory, { recursive: true });
    const database = <T extends {}>(name: string) =>
      new PouchDB<T>(
        this.options.adapter === 'leveldb' ? join(this.options.directory, name) : `${this.options.directory}/${name}`,
        { adapter: this.options.adapter },
      );
    const databases: Databases = {
      results: database<ResultDoc>('results'),
      history: database<HistoryDoc>('history'),
      models: database<ModelDoc<PouchDB.Core.Attachments>>('models'),
      settings: database<SettingDoc>('settings'),
      feedback: database<FeedbackDoc>('feedback'),
    };
    // PouchDB opens lazily; asking for info surfaces a locked or unreadable directory now, not later.
    try {
      await Promise.all(Object.values(databases).map((db: PouchDB.Database) => db.info()));
    } catch (error) {
      await Promise.allSettled(Object.values(databases).map((db: PouchDB.Database) => db.close()));
      // leveldb holds a lock file per database: another process has the directory open.
      if (/\block\b/i.test(error instanceof Error ? error.message : String(error))) {
        throw new StoreInUseError(`${this.options.directory} is in use by another process`);
      }
      throw error;
    }
    this.databases = databases;
  }

  async close(): Promise<void> {
    const databases = this.databases;
    this.databases = null;
    if (databases) await Promise.all(Object.values(databases).map((db: PouchDB.Database) => db.close()));
  }

  healthy(): boolean {
    return this.databases !== null;
  }

  async saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]> {
    if (results.length === 0) return [];
    const responses = await this.db('results').bulkDocs(results.map(resultDoc));
    const outcomes = responses.map((response, i): SaveOutcome => {
      if (!('error' in response) || !response.error) return 'created';
      if (response.status === 409) return 'exists';
      throw new StoreError(`could not store result ${results[i]?.id}: ${response.message ?? response.error}`);
    });
    const fresh = results.filter((result, i) => outcomes[i] === 'created' && result.sessionId !== undefined);
    if (fresh.length > 0) {
      await this.db('history').bulkDocs(fresh.map((result) => ({ _id: historyKey(result), result })));
    }
    return outcomes;
  }

  async getResult(id: string): Promise<PredictionResult | null> {
    const doc = await getOrNull(this.db('results'), id);
    return doc ? toResult(doc) : null;
  }

  async sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    const page = await this.db('history').allDocs({ ...sessionRange(sessionId, true), descending: true, include_docs: true, limit });
    return page.rows.flatMap((row) => (row.doc ? [row.doc.result] : []));
  }

  async clearSession(sessionId: string): Promise<number> {
    const history = this.db('history');
    const page = await history.allDocs(sessionRange(sessionId, false));
    if (page.rows.length === 0) return 0;
    await history.bulkDocs(page.rows.map((row) => ({ _id: row.id, _rev: row.value.rev, _deleted: true }) as never));
    return page.rows.length;
  }

  async saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    const doc: ModelDoc<PouchDB.Core.Attachments> = {
      ...meta,
      _id: meta.version,
      _attachments: {
        [MODEL_JSON]: { content_type: 'application/json', data: Buffer.from(files.modelJson) },
        [WEIGHTS_BIN]: { content_type: 'application/octet-stream', data: Buffer.from(files.weightsBin) },
      },
    };
    try {
      await this.db('models').put(doc);
      return 'created';
    } catch (error) {
      if ((error as { status?: number }).status === 409) return 'exists';
      throw error;
    }
  }

  async listModels(): Promise<ModelVersion[]> {
    const page = await this.db('models').allDocs({ include_docs: true });
    return page.rows
      .flatMap((row) => (row.doc ? [toModelVersion(row.doc)] : []))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async loadModel(version: string): Promise<ModelFiles | null> {
    const models = this.db('models');
    const doc = await getOrNull(models, version);
    if (!doc) return null;
    const [modelJson, weightsBin] = await Promise.all([
      models.getAttachment(version, MODEL_JSON),
      models.getAttachment(version, WEIGHTS_BIN),
    ]);
    return { modelJson: toBytes(modelJson), weightsBin: toBytes(weightsBin) };
  }

  async getServingVersion(): Promise<string | null> {
    return (await getOrNull(this.db('settings'), SERVING_VERSION))?.value ?? null;
  }

  async setServingVersion(version: string): Promise<void> {
    await upsert(access(this.db('settings')), { _id: SERVING_VERSION, value: version });
  }

  async saveFeedback(sample: FeedbackSample): Promise<void> {
    await upsert(access(this.db('feedback')), feedbackDoc(sample));
  }

  async listFeedback(limit: number): Promise<FeedbackSample[]> {
    const page = await this.db('feedback').allDocs({ include_docs: true });
    return newestFeedback(page.rows.map((row) => row.doc), limit);
  }

  private db<K extends keyof Databases>(name: K): Databases[K] {
    if (!this.databases) throw new StoreError('store is closed');
    return this.databases[name];
  }
}

async function getOrNull<T extends {}>(db: PouchDB.Database<T>, id: string): Promise<(T & PouchDB.Core.IdMeta & PouchDB.Core.GetMeta) | null> {
  try {
    return await db.get(id);
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

function access<T extends Doc>(db: PouchDB.Database<T>) {
  return {
    get: (id: string) => getOrNull(db, id),
    put: (doc: T) => db.put(doc),
    isConflict: (error: unknown) => (error as { status?: number }).status === 409,
  };
}

function toBytes(data: Blob | Buffer): Uint8Array {
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new StoreError('attachment came back as a Blob; expected a Buffer under Bun');
}
