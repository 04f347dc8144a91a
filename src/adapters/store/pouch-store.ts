// Store on PouchDB: leveldb directories under --data-dir for the local demo, or the memory adapter for
// tests. Three databases: results keyed by request id, a per-session index, and model versions whose
// files are attachments (the same layout CouchStore uses, so data moves between them by replication).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PouchDB } from '../../embedded/pouchdb.ts';
import { StoreError, type FeedbackSample, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store } from './store.ts';
import { feedbackDoc, newestFeedback, type FeedbackDoc } from './documents.ts';

export interface PouchStoreOptions {
  /** 'leveldb' keeps data in `directory`; 'memory' forgets it on close. */
  readonly adapter: 'leveldb' | 'memory';
  readonly directory: string;
}

type ResultDoc = Omit<PredictionResult, 'id'> & { _id: string; _rev?: string };
type HistoryDoc = { _id: string; _rev?: string; result: PredictionResult };
type ModelDoc = ModelVersion & { _id: string; _attachments?: PouchDB.Core.Attachments };
type SettingDoc = { _id: string; _rev?: string; value: string };

interface Databases {
  readonly results: PouchDB.Database<ResultDoc>;
  readonly history: PouchDB.Database<HistoryDoc>;
  readonly models: PouchDB.Database<ModelDoc>;
  readonly settings: PouchDB.Database<SettingDoc>;
  readonly feedback: PouchDB.Database<FeedbackDoc>;
}

// Sorts after every character a history key uses, so one range query returns a whole session.
const SESSION_END = '\ufff0';
const MODEL_JSON = 'model.json';
const WEIGHTS_BIN = 'weights.bin';
const SERVING_VERSION = 'serving-version';

export class PouchStore implements Store {
  readonly name = 'pouchdb';
  readonly capabilities: { durable: boolean };
  private databases: Databases | null = null;

  constructor(private readonly options: PouchStoreOptions) {
    this.capabilities = Object.freeze({ durable: options.adapter === 'leveldb' });
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
      models: database<ModelDoc>('models'),
      settings: database<SettingDoc>('settings'),
      feedback: database<FeedbackDoc>('feedback'),
    };
    // PouchDB opens lazily; asking for info surfaces a locked or unreadable directory now, not later.
    await Promise.all(Object.values(databases).map((db: PouchDB.Database) => db.info()));
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
    const docs = results.map(({ id, ...rest }) => ({ _id: id, ...rest }));
    const responses = await this.db('results').bulkDocs(docs);
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
    if (!doc) return null;
    const { _id, _rev, ...rest } = doc;
    return { id: _id, ...rest };
  }

  async sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    const page = await this.db('history').allDocs({
      startkey: `${sessionId}\u0001${SESSION_END}`,
      endkey: `${sessionId}\u0001`,
      descending: true,
      include_docs: true,
      limit,
    });
    return page.rows.flatMap((row) => (row.doc ? [row.doc.result] : []));
  }

  async clearSession(sessionId: string): Promise<number> {
    const history = this.db('history');
    const page = await history.allDocs({ startkey: `${sessionId}\u0001`, endkey: `${sessionId}\u0001${SESSION_END}` });
    if (page.rows.length === 0) return 0;
    await history.bulkDocs(page.rows.map((row) => ({ _id: row.id, _rev: row.value.rev, _deleted: true }) as never));
    return page.rows.length;
  }

  async saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    const doc: ModelDoc = {
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
    await upsert(this.db('settings'), { _id: SERVING_VERSION, value: version });
  }

  async saveFeedback(sample: FeedbackSample): Promise<void> {
    await upsert(this.db('feedback'), feedbackDoc(sample));
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

function historyKey(result: PredictionResult): string {
  return `${result.sessionId}\u0001${result.createdAt}\u0001${result.id}`;
}

function toModelVersion(doc: ModelDoc): ModelVersion {
  const { _id, _attachments, ...meta } = doc as ModelDoc & { _rev?: string };
  delete (meta as { _rev?: string })._rev;
  return meta;
}

async function getOrNull<T extends {}>(db: PouchDB.Database<T>, id: string): Promise<(T & PouchDB.Core.IdMeta & PouchDB.Core.GetMeta) | null> {
  try {
    return await db.get(id);
  } catch (error) {
    if ((error as { status?: number }).status === 404) return null;
    throw error;
  }
}

/** Writes the document over whatever revision is there; retries once if another writer got in between. */
async function upsert<T extends { _id: string; _rev?: string }>(db: PouchDB.Database<T>, doc: T): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const current = await getOrNull(db, doc._id);
    try {
      await db.put({ ...doc, ...(current ? { _rev: current._rev } : {}) });
      return;
    } catch (error) {
      if ((error as { status?: number }).status !== 409 || attempt >= 3) throw error;
    }
  }
}

function toBytes(data: Blob | Buffer): Uint8Array {
  if (data instanceof Uint8Array) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  throw new StoreError('attachment came back as a Blob; expected a Buffer under Bun');
}
