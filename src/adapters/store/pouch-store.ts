// Store on PouchDB: leveldb directories under --data-dir for the local demo, or the memory adapter for
// tests and throwaway runs. The databases and documents of documents.ts, as CouchStore keeps them;
// results and history by period (time-series.ts), each period a leveldb directory of its own, removed
// whole when it expires: that is what gives the disk space back (leveldb deletes a document by writing
// a tombstone, and shrinks only when it compacts).
import { mkdir, readdir, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { PouchDB } from '../../embedded/pouchdb.ts';
import { feedbackDoc, feedbackWindow, MODEL_JSON, MODEL_ONNX, relabelled, reviewFeedbackDoc, SERVING_VERSION, toModelVersion, upsert, WEIGHTS_BIN, type Doc, type FeedbackDoc, type ModelDoc, type SettingDoc } from './documents.ts';
import { Periods, SERIES_KINDS, timeOfId } from './periods.ts';
import { DEFAULT_RETENTION, FEEDBACK_PER_SESSION, StoreError, StoreInUseError, type FeedbackQuery, type FeedbackSample, type FeedbackState, type NewFeedback, type ModelFiles, type ModelVersion, type PredictionResult, type RetentionPolicy, type SaveOutcome, type Store, type SweepReport, type SweepTotals } from './store.ts';
import { parseSegment, SEGMENT_DOCS, SegmentedDatabase } from './segmented-database.ts';
import { TimeSeries, type Databases, type RangeQuery, type RangeRow, type WriteOptions, type WriteRow } from './time-series.ts';

export interface PouchStoreOptions {
  /** 'leveldb' keeps data in `directory`; 'memory' forgets it on close. */
  readonly adapter: 'leveldb' | 'memory';
  readonly directory: string;
  readonly retention?: RetentionPolicy;
  /** Documents a period database's segment holds before the next begins (default SEGMENT_DOCS). */
  readonly segmentDocs?: number;
}

export const pouchStoreName = (options: PouchStoreOptions): string => (options.adapter === 'memory' ? 'memory' : 'pouchdb');

interface Fixed {
  readonly models: PouchDB.Database<ModelDoc<PouchDB.Core.Attachments>>;
  readonly settings: PouchDB.Database<SettingDoc>;
  readonly feedback: PouchDB.Database<FeedbackDoc>;
}

export class PouchStore implements Store {
  /** As the registry names it: a memory adapter is the `memory` store, leveldb the `pouchdb` one. */
  readonly name: string;
  private databases: PouchDatabases | null = null;
  private series: TimeSeries | null = null;

  constructor(private readonly options: PouchStoreOptions) {
    this.name = pouchStoreName(options);
  }

  async open(): Promise<void> {
    const databases = new PouchDatabases(this.options);
    await databases.open();
    this.databases = databases;
    this.series = new TimeSeries(databases, this.options.retention ?? DEFAULT_RETENTION);
    this.series.start();
  }

  async close(): Promise<void> {
    const databases = this.databases;
    const series = this.series;
    this.databases = null;
    this.series = null;
    await series?.stop();
    await databases?.close();
  }

  healthy(): boolean {
    return this.databases !== null;
  }

  async saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]> {
    return this.timeSeries().saveResults(results);
  }

  async getResult(id: string): Promise<PredictionResult | null> {
    return this.timeSeries().getResult(id);
  }

  async sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    return this.timeSeries().sessionHistory(sessionId, limit);
  }

  async clearSession(sessionId: string): Promise<number> {
    return this.timeSeries().clearSession(sessionId);
  }

  async sweep(now?: number): Promise<SweepReport> {
    return this.timeSeries().sweep(now);
  }

  async sweepTotals(): Promise<SweepTotals> {
    return this.timeSeries().totals();
  }

  async saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    const doc: ModelDoc<PouchDB.Core.Attachments> = {
      ...meta,
      _id: meta.version,
      _attachments: {
        [MODEL_JSON]: { content_type: 'application/json', data: Buffer.from(files.modelJson) },
        [WEIGHTS_BIN]: { content_type: 'application/octet-stream', data: Buffer.from(files.weightsBin) },
        ...(files.modelOnnx ? { [MODEL_ONNX]: { content_type: 'application/octet-stream', data: Buffer.from(files.modelOnnx) } } : {}),
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

  async deleteModel(version: string): Promise<boolean> {
    const models = this.db('models');
    const doc = await getOrNull(models, version);
    if (!doc) return false;
    await models.remove(doc);
    return true;
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
    // The document lists its attachments (as stubs): model.onnx is read only when the version has one.
    const hasOnnx = doc._attachments?.[MODEL_ONNX] !== undefined;
    const [modelJson, weightsBin, modelOnnx] = await Promise.all([
      models.getAttachment(version, MODEL_JSON),
      models.getAttachment(version, WEIGHTS_BIN),
      hasOnnx ? models.getAttachment(version, MODEL_ONNX) : undefined,
    ]);
    return { modelJson: toBytes(modelJson), weightsBin: toBytes(weightsBin), ...(modelOnnx ? { modelOnnx: toBytes(modelOnnx) } : {}) };
  }

  async getServingVersion(): Promise<string | null> {
    return (await getOrNull(this.db('settings'), SERVING_VERSION))?.value ?? null;
  }

  async setServingVersion(version: string): Promise<void> {
    await upsert(access(this.db('settings')), { _id: SERVING_VERSION, value: version });
  }

  async saveFeedback(sample: NewFeedback): Promise<string> {
    const doc = feedbackDoc(sample);
    await upsert(access(this.db('feedback')), doc, relabelled);
    return doc._id;
  }

  async listFeedback(limit: number, query?: FeedbackQuery): Promise<FeedbackSample[]> {
    const perSession = this.timeSeries().policy.feedbackPerSession ?? FEEDBACK_PER_SESSION;
    const page = await this.db('feedback').allDocs({ include_docs: true });
    return feedbackWindow(page.rows.map((row) => row.doc), limit, perSession, query);
  }

  async reviewFeedback(id: string, label: number, state: Exclude<FeedbackState, 'pending'>): Promise<FeedbackSample | null> {
    return reviewFeedbackDoc(access(this.db('feedback')), id, label, state);
  }

  private db<K extends keyof Fixed>(name: K): Fixed[K] {
    if (!this.databases) throw new StoreError('store is closed');
    return this.databases.fixed[name];
  }

  private timeSeries(): TimeSeries {
    if (!this.series) throw new StoreError('store is closed');
    return this.series;
  }
}

/** The store's databases: three kept whole, opened with the store; the periods' opened when first
 * written (or found on disk), so that a read never makes an empty one. Each is a SegmentedDatabase: the
 * periods' begin a new segment every `segmentDocs` documents, the others never do. */
export class PouchDatabases implements Databases {
  fixed!: Fixed;
  private readonly whole = new Map<string, SegmentedDatabase>();
  private readonly periods = new Map<string, SegmentedDatabase>();

  constructor(private readonly options: PouchStoreOptions) {}

  async open(): Promise<void> {
    const { adapter, directory } = this.options;
    if (adapter === 'leveldb') {
      await mkdir(directory, { recursive: true });
      await adoptUnsplit(directory, this.options.retention ?? DEFAULT_RETENTION);
    }
    const fixed: Fixed = { models: this.create('models'), settings: this.create('settings'), feedback: this.create('feedback') };
    for (const [name, db] of Object.entries(fixed)) this.whole.set(name, SegmentedDatabase.of(name, db));
    const found = new Map<string, string[]>();
    if (adapter === 'leveldb') {
      for (const entry of await readdir(directory)) {
        const { name } = parseSegment(entry);
        if (Periods.parse(name)) found.set(name, [...(found.get(name) ?? []), entry]);
      }
    }
    // PouchDB opens lazily; asking for info (adopt counts the newest segment) surfaces a locked or
    // unreadable directory now, not later.
    try {
      await Promise.all(Object.values(fixed).map((db) => db.info()));
      for (const [name, segments] of found) {
        const db = this.period(name);
        this.periods.set(name, db);
        await db.adopt(segments);
      }
    } catch (error) {
      await this.closeAll([...Object.values(fixed), ...[...this.periods.values()].flatMap((db) => db.all())]);
      this.periods.clear();
      // leveldb holds a lock file per database: another process has the directory open.
      if (/\block\b/i.test(error instanceof Error ? error.message : String(error))) {
        throw new StoreInUseError(`${directory} is in use by another process`);
      }
      throw error;
    }
    this.fixed = fixed;
  }

  async close(): Promise<void> {
    const all = [...Object.values(this.fixed), ...[...this.periods.values()].flatMap((db) => db.all())];
    this.periods.clear();
    await Promise.all(all.map((db) => db.close()));
  }

  async names(): Promise<string[]> {
    return [...this.whole.keys(), ...this.periods.keys()];
  }

  async getMany<T extends Doc>(name: string, ids: readonly string[]): Promise<(T | null)[]> {
    const db = this.existing(name);
    if (!db || ids.length === 0) return ids.map(() => null);
    return (await db.getMany(ids)) as (T | null)[];
  }

  async write(name: string, docs: readonly object[], options?: WriteOptions): Promise<WriteRow[]> {
    if (docs.length === 0) return [];
    let db = this.existing(name);
    if (!db) {
      db = this.period(name);
      this.periods.set(name, db);
    }
    const responses = await db.write(docs as readonly Doc[], options?.repeatsHarmless);
    return responses.map((response) => {
      if (!response.error) return { ok: true };
      return { ok: false, conflict: response.status === 409, reason: response.message ?? String(response.error) };
    });
  }

  async range<T extends Doc>(name: string, query: RangeQuery): Promise<RangeRow<T>[]> {
    const db = this.existing(name);
    if (!db) return [];
    const rows = await db.range(query);
    return rows.map((row) => ({ id: row.id, rev: row.value?.rev ?? '', ...(row.doc ? { doc: row.doc as T } : {}) }));
  }

  async count(name: string): Promise<number> {
    return (await this.existing(name)?.count()) ?? 0;
  }

  async drop(name: string): Promise<void> {
    const db = this.periods.get(name);
    if (!db) return;
    this.periods.delete(name);
    await db.destroy();
  }

  /** Nothing to do: one process owns these databases and makes each when it first writes it. */
  async prepare(): Promise<void> {}

  private existing(name: string): SegmentedDatabase | undefined {
    return this.periods.get(name) ?? this.whole.get(name);
  }

  private period(name: string): SegmentedDatabase {
    return new SegmentedDatabase(name, (segment) => this.create(segment), this.options.segmentDocs ?? SEGMENT_DOCS, timeOfId);
  }

  private create<T extends {}>(name: string): PouchDB.Database<T> {
    const { adapter, directory } = this.options;
    return new PouchDB<T>(adapter === 'leveldb' ? join(directory, name) : `${directory}/${name}`, { adapter });
  }

  private async closeAll(all: readonly PouchDB.Database[]): Promise<void> {
    await Promise.allSettled(all.map((db) => db.close()));
  }
}

/** A data directory from before results were split by period holds `results` and `history` whole:
 * they become the current period's, and so expire a retention after the upgrade. */
async function adoptUnsplit(directory: string, retention: RetentionPolicy): Promise<void> {
  const periods = new Periods(retention.retentionMs);
  for (const kind of SERIES_KINDS) {
    const from = join(directory, kind);
    const to = join(directory, periods.name(kind, periods.of(Date.now())));
    if ((await isDirectory(from)) && !(await isDirectory(to))) await rename(from, to);
  }
}

async function isDirectory(path: string): Promise<boolean> {
  return stat(path).then((info) => info.isDirectory(), () => false);
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
