// Store on a CouchDB server (cluster mode): the databases and documents of ../documents.ts, as PouchStore
// keeps them, so data replicates between the two. Database names get a prefix. Results and history
// entries live in one database per period (../time-series.ts), deleted whole when the period expires:
// no tombstones left behind, and the server gives the files back at once.
// Writes of results and history go out through a group commit (bulk-queue.ts): the batches of one
// process that are written at the same time share one _bulk_docs.
import { BulkQueue, type BulkQueueOptions, type BulkRow } from './bulk-queue.ts';
import { COUCH_ROLES, CouchAccess, isDesignDoc, type CouchRole } from './couch-access.ts';
import { CouchClient, CouchHttpError, type CouchClientOptions, type CouchRequest } from './couch-client.ts';
import type { CouchCredentials } from './couch-credentials.ts';
import { DATABASES, feedbackDoc, feedbackWindow, MODEL_JSON, MODEL_ONNX, relabelled, reviewFeedbackDoc, SERVING_VERSION, toModelVersion, upsert, WEIGHTS_BIN, type DatabaseName, type Doc, type FeedbackDoc, type ModelDoc, type SettingDoc } from '../documents.ts';
import { DEFAULT_RETENTION, FEEDBACK_PER_SESSION, StoreError, type FeedbackQuery, type FeedbackSample, type FeedbackState, type NewFeedback, type ModelFiles, type ModelVersion, type PredictionResult, type RetentionPolicy, type SaveOutcome, type Store, type SweepReport, type SweepTotals } from '../store.ts';
import { TimeSeries, type Databases, type RangeQuery, type RangeRow, type WriteRow } from '../time-series.ts';

export interface CouchStoreOptions extends CouchClientOptions {
  /** Prepended to every database name (default `stratus_`), so several deployments share one server. */
  readonly prefix?: string;
  /** Group commit of results and history (see bulk-queue.ts); default 1 request at once, 2,048 docs,
   * at most one request per 200 ms under steady load. */
  readonly bulk?: Partial<BulkQueueOptions>;
  readonly retention?: RetentionPolicy;
  /** `stratus couchdb keep`: makes each period's databases ahead, for the roles' users that may not. */
  readonly keeper?: boolean;
}

// One at once: what a process writes meanwhile waits and goes out as one bigger request. A CouchDB-API
// server pays mostly per request (bench/couch-store.ts, 16-result batches, 4 per store at once: 32
// documents a request and ~20% less server CPU per result than with 2 at once; never more with 2 calls).
// And under steady load at most one request per 200 ms: pouchdb-server spends ~4 ms of CPU per
// _bulk_docs whatever it holds, and a consumer's results wait only for their acknowledgement (the Kafka
// offset, itself committed every 250 ms), not for their answer. bench/cluster.ts, 2 consumers at ~1,000
// results/s each: 40 ms → 183 µs of server CPU per result, 100 ms → 138, 200 ms → 125. The interval must
// not cap the rate: 512 documents a request capped a database at 2,560 per second and process, and two
// consumers serving 2,400 results/s each queued their writes for 2.4 s, which held up their Kafka
// acknowledgements and new deliveries (request p99 124 ms); 2,048: 131 ms a write, p99 23 ms.
const DEFAULT_BULK: BulkQueueOptions = Object.freeze({ maxInFlight: 1, maxDocs: 2048, minIntervalMs: 200 });
// Look-ups by id (a gateway's for each Idempotency-Key, a consumer's for a redelivered batch) are grouped
// the same way, without the interval: their callers wait for the answer. bench/failover.ts, 200 keyed
// requests/s, one _all_docs per look-up: the server fell behind, and most look-ups ran into the gateway's
// 250 ms deadline (p50 264 ms with no fault).
const LOOKUPS: BulkQueueOptions = Object.freeze({ maxInFlight: 2, maxDocs: 1024 });

/** Attachments as CouchDB's JSON API carries them: base64 text. */
type CouchModelDoc = ModelDoc<Record<string, Partial<{ content_type: string; data: string }>>>;
type AllDocs<T> = { rows: { id: string; value: { rev: string }; doc?: T | null; error?: string }[] };

export class CouchStore implements Store {
  readonly name = 'couchdb';
  private client: CouchClient | null = null;
  private readonly prefix: string;
  private readonly bulkOptions: BulkQueueOptions;
  /** One group commit per database written to (a period's results, its history). */
  private readonly queues = new Map<string, BulkQueue>();
  /** One group of look-ups by id per database read from. */
  private readonly lookups = new Map<string, BulkQueue<string, Doc | null>>();
  private readonly series: TimeSeries;
  readonly permissions: CouchAccess;
  /** Logged in as a server admin (or the server has none): this store creates and drops databases.
   * Otherwise it is one role's user, and `stratus couchdb keep` does that for it. */
  private serverAdmin = false;
  /** The keeper's: the databases whose `_security` and write rule it has set since it started. */
  private readonly secured = new Set<string>();

  constructor(private readonly options: CouchStoreOptions) {
    this.prefix = options.prefix ?? 'stratus_';
    this.permissions = new CouchAccess(this.prefix);
    this.bulkOptions = { ...DEFAULT_BULK, ...options.bulk };
    this.series = new TimeSeries(new CouchDatabases(this), options.retention ?? DEFAULT_RETENTION);
  }

  async open(): Promise<void> {
    const client = new CouchClient(this.options);
    this.client = client;
    try {
      this.serverAdmin = await this.isServerAdmin();
      // A role's user may not even look at a database it is no member of: it takes them as made.
      if (this.serverAdmin) await Promise.all(DATABASES.map((name) => this.ensureDatabase(this.db(name))));
    } catch (error) {
      client.close();
      this.client = null;
      throw error;
    }
    client.startPinging();
    this.series.start({ sweep: this.serverAdmin, ahead: this.serverAdmin && this.options.keeper === true });
  }

  private async isServerAdmin(): Promise<boolean> {
    const session = await this.client!.request<{ userCtx?: { roles?: unknown } }>({ path: '_session' });
    const roles = session.userCtx?.roles;
    return Array.isArray(roles) && roles.includes('_admin');
  }

  /** The keeper's start (server admin only): each role's user with its password and roles, and every
   * database of the store with the `_security` and write rule of couch-access.ts, made before those
   * existed or changed since. */
  async provision(users: ReadonlyMap<CouchRole, CouchCredentials>, gatewayPublishes: boolean): Promise<void> {
    this.assertOpen();
    if (!this.serverAdmin) throw new StoreError('only a CouchDB server admin may create users and set database security');
    for (const role of COUCH_ROLES) {
      const credentials = users.get(role);
      if (!credentials) continue;
      const { name, roles } = this.permissions.user(role, gatewayPublishes);
      if (credentials.username !== name) throw new StoreError(`the ${role} user must be named ${name}, not ${credentials.username}`);
      const id = `org.couchdb.user:${name}`;
      await upsert(this.access<Doc>('_users'), credentials.userDocument(id, roles) as Doc);
    }
    await this.secureAll();
  }

  /** Secures each database of the store not yet secured since the keeper started: those made before
   * it ran, or since by a process that logs in as the admin. */
  private async secureAll(): Promise<void> {
    for (const name of await this.ownDatabases()) if (!this.secured.has(name)) await this.secure(name);
  }

  async close(): Promise<void> {
    await this.series.stop();
    this.client?.close();
  }

  healthy(): boolean {
    return this.client?.healthy ?? false;
  }

  async saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]> {
    this.assertOpen(); // a closed store fails here, not inside a group another caller's write shares
    return this.series.saveResults(results);
  }

  async getResult(id: string): Promise<PredictionResult | null> {
    this.assertOpen();
    return this.series.getResult(id);
  }

  async sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    this.assertOpen();
    return this.series.sessionHistory(sessionId, limit);
  }

  async clearSession(sessionId: string): Promise<number> {
    this.assertOpen();
    return this.series.clearSession(sessionId);
  }

  async sweep(now?: number): Promise<SweepReport> {
    this.assertOpen();
    return this.series.sweep(now);
  }

  async sweepTotals(): Promise<SweepTotals> {
    this.assertOpen();
    return this.series.totals();
  }

  /** A write through the database's group commit (see bulk-queue.ts). */
  queuedWrite(db: string, docs: readonly object[]): Promise<BulkRow[]> {
    let queue = this.queues.get(db);
    if (!queue) {
      queue = new BulkQueue((group) => this.bulk(this.fullName(db), group), this.bulkOptions);
      this.queues.set(db, queue);
    }
    return queue.submit(docs);
  }

  /** The documents with these ids (null where none, or no such database), through the database's group
   * of look-ups. */
  queuedLookup<T extends Doc>(db: string, ids: readonly string[]): Promise<(T | null)[]> {
    let queue = this.lookups.get(db);
    if (!queue) {
      queue = new BulkQueue((group) => this.lookUp(this.fullName(db), group), LOOKUPS);
      this.lookups.set(db, queue);
    }
    return queue.submit(ids) as Promise<(T | null)[]>;
  }

  forgetQueues(db: string): void {
    this.queues.delete(db);
    this.lookups.delete(db);
  }

  async saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    const doc: CouchModelDoc = {
      ...meta,
      _id: meta.version,
      _attachments: {
        [MODEL_JSON]: { content_type: 'application/json', data: Buffer.from(files.modelJson).toString('base64') },
        [WEIGHTS_BIN]: { content_type: 'application/octet-stream', data: Buffer.from(files.weightsBin).toString('base64') },
        ...(files.modelOnnx ? { [MODEL_ONNX]: { content_type: 'application/octet-stream', data: Buffer.from(files.modelOnnx).toString('base64') } } : {}),
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

  async deleteModel(version: string): Promise<boolean> {
    const models = this.db('models');
    const doc = await this.getOrNull<CouchModelDoc>(models, version);
    if (!doc) return false;
    try {
      await this.request({ method: 'DELETE', db: models, path: encodeURIComponent(version), qs: { rev: doc._rev } });
      return true;
    } catch (error) {
      // Another process deleted it between our read and our delete.
      if (error instanceof CouchHttpError && (error.statusCode === 404 || error.statusCode === 409)) return false;
      throw error;
    }
  }

  async listModels(): Promise<ModelVersion[]> {
    const page = await this.request<AllDocs<CouchModelDoc>>({ db: this.db('models'), path: '_all_docs', qs: { include_docs: true } });
    return page.rows
      .flatMap((row) => (row.doc && !isDesignDoc(row.id) ? [toModelVersion(row.doc)] : []))
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
  }

  async loadModel(version: string): Promise<ModelFiles | null> {
    // One request: attachments come inline as base64 in the JSON document.
    const doc = await this.getOrNull<CouchModelDoc>(this.db('models'), version, { attachments: true });
    if (!doc) return null;
    const modelOnnx = optionalAttachmentBytes(doc, MODEL_ONNX);
    return { modelJson: attachmentBytes(doc, MODEL_JSON), weightsBin: attachmentBytes(doc, WEIGHTS_BIN), ...(modelOnnx ? { modelOnnx } : {}) };
  }

  async getServingVersion(): Promise<string | null> {
    return (await this.getOrNull<SettingDoc>(this.db('settings'), SERVING_VERSION))?.value ?? null;
  }

  async setServingVersion(version: string): Promise<void> {
    await upsert(this.access<SettingDoc>(this.db('settings')), { _id: SERVING_VERSION, value: version });
  }

  async saveFeedback(sample: NewFeedback): Promise<string> {
    const doc = feedbackDoc(sample);
    await upsert(this.access<FeedbackDoc>(this.db('feedback')), doc, relabelled);
    return doc._id;
  }

  async listFeedback(limit: number, query?: FeedbackQuery): Promise<FeedbackSample[]> {
    const perSession = this.series.policy.feedbackPerSession ?? FEEDBACK_PER_SESSION;
    const page = await this.request<AllDocs<FeedbackDoc>>({ db: this.db('feedback'), path: '_all_docs', qs: { include_docs: true } });
    return feedbackWindow(page.rows.map((row) => (isDesignDoc(row.id) ? undefined : (row.doc ?? undefined))), limit, perSession, query);
  }

  async reviewFeedback(id: string, label: number, state: Exclude<FeedbackState, 'pending'>): Promise<FeedbackSample | null> {
    return reviewFeedbackDoc(this.access<FeedbackDoc>(this.db('feedback')), id, label, state);
  }

  /** The full name of one of the store's databases kept whole; throws once the store is closed. */
  private db(name: DatabaseName): string {
    return this.fullName(name);
  }

  /** The full name of any of the store's databases; throws once the store is closed. */
  fullName(name: string): string {
    this.assertOpen();
    return `${this.prefix}${name}`;
  }

  private assertOpen(): void {
    if (!this.client) throw new StoreError('store is closed');
    this.client.assertOpen();
  }

  /** One call; if the server lost the database meanwhile (restarted empty, or it was deleted), makes it
   * again, unless `missing` says what a missing database reads as (a period's that nobody wrote yet). */
  async request<T>(request: CouchRequest & { db: string }, missing?: () => T): Promise<T> {
    try {
      return await this.client!.request<T>(request);
    } catch (error) {
      if (!(error instanceof CouchHttpError && error.missingDatabase)) throw error;
      if (missing) return missing();
      await this.ensureDatabase(request.db);
      return this.client!.request<T>(request);
    }
  }

  /** The databases on the server that carry this store's prefix, named without it. */
  async ownDatabases(): Promise<string[]> {
    this.assertOpen();
    const all = await this.client!.request<string[]>({ path: '_all_dbs' });
    return all.filter((name) => name.startsWith(this.prefix)).map((name) => name.slice(this.prefix.length));
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
    if (!this.serverAdmin) throw new StoreError(`couchdb database ${name} does not exist, and only the keeper (stratus couchdb keep) may create it`);
    try {
      await client.request({ method: 'PUT', db: name });
    } catch (error) {
      // 412: another process created it between our look and our PUT.
      if (error instanceof CouchHttpError && error.statusCode === 412) return;
      throw error;
    }
    // Only the keeper sets members and write rules: where every process is the admin, nobody needs them.
    if (this.options.keeper) await this.secure(name.slice(this.prefix.length));
  }

  /** Sets a database's members and write rule (couch-access.ts); `name` without the prefix. */
  private async secure(name: string): Promise<void> {
    const security = this.permissions.security(name);
    if (!security) return;
    const db = this.fullName(name);
    try {
      await this.client!.request({ method: 'PUT', db, path: '_security', body: security });
    } catch (error) {
      // pouchdb-server keeps _security as a revised document, and may let two processes both create a
      // database: a 409 means the other wrote the same object just now.
      if (!(error instanceof CouchHttpError && error.statusCode === 409)) throw error;
    }
    const guard = this.permissions.guard(name);
    if (guard) await upsert(this.access<Doc>(db), guard);
    this.secured.add(name);
  }

  /** The keeper's sweep (the only one with upkeep `ahead`, set in open()): makes those of the databases
   * (named without the prefix) that do not exist yet, and secures any made meanwhile by another admin. */
  async prepare(names: readonly string[]): Promise<void> {
    for (const name of names) await this.ensureDatabase(this.fullName(name));
    await this.secureAll();
  }

  async bulk(db: string, docs: readonly object[]): Promise<BulkRow[]> {
    const rows = await this.request<BulkRow[]>({ method: 'POST', db, path: '_bulk_docs', body: { docs } });
    if (!Array.isArray(rows) || rows.length !== docs.length) {
      throw new StoreError(`couchdb ${db}/_bulk_docs answered ${Array.isArray(rows) ? rows.length : 'no'} rows for ${docs.length} documents`);
    }
    return rows;
  }

  /** One _all_docs request for the ids: CouchDB answers a row per key, in order, with the document when
   * there is one; a database that does not exist holds none of them. */
  private async lookUp(db: string, ids: readonly string[]): Promise<(Doc | null)[]> {
    const page = await this.request<AllDocs<Doc>>({ method: 'POST', db, path: '_all_docs', qs: { include_docs: true }, body: { keys: ids } }, () => ({ rows: [] }));
    const byId = new Map(page.rows.flatMap((row) => (row.doc ? [[row.id, row.doc] as const] : [])));
    return ids.map((id) => byId.get(id) ?? null);
  }

  async getOrNull<T extends Doc>(db: string, id: string, qs?: Record<string, unknown>): Promise<T | null> {
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
  const bytes = optionalAttachmentBytes(doc, name);
  if (!bytes) throw new StoreError(`model ${doc._id} has no ${name} attachment`);
  return bytes;
}

function optionalAttachmentBytes(doc: CouchModelDoc, name: string): Uint8Array | undefined {
  const data = doc._attachments?.[name]?.data;
  if (typeof data !== 'string') return undefined;
  const bytes = Buffer.from(data, 'base64');
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The Databases of the shared logic, on the server: reads of a database nobody made read as empty. */
class CouchDatabases implements Databases {
  constructor(private readonly store: CouchStore) {}

  names(): Promise<string[]> {
    return this.store.ownDatabases();
  }

  getMany<T extends Doc>(name: string, ids: readonly string[]): Promise<(T | null)[]> {
    return this.store.queuedLookup<T>(name, ids);
  }

  async write(name: string, docs: readonly object[]): Promise<WriteRow[]> {
    const rows = await this.store.queuedWrite(name, docs);
    // A retried request whose first try did land answers `conflict` too: 'exists' then, which is still true.
    return rows.map((row) => (row.ok ? { ok: true } : { ok: false, conflict: row.error === 'conflict', reason: row.reason ?? row.error ?? 'unknown error' }));
  }

  async range<T extends Doc>(name: string, query: RangeQuery): Promise<RangeRow<T>[]> {
    const page = await this.store.request<AllDocs<T>>({ db: this.store.fullName(name), path: '_all_docs', qs: { ...query } }, () => ({ rows: [] }));
    return page.rows.map((row) => ({ id: row.id, rev: row.value.rev, ...(row.doc ? { doc: row.doc } : {}) }));
  }

  async count(name: string): Promise<number> {
    const info = await this.store.request<{ doc_count: number }>({ db: this.store.fullName(name) }, () => ({ doc_count: 0 }));
    return info.doc_count;
  }

  async drop(name: string): Promise<void> {
    this.store.forgetQueues(name);
    await this.store.request({ method: 'DELETE', db: this.store.fullName(name) }, () => null);
  }

  prepare(names: readonly string[]): Promise<void> {
    return this.store.prepare(names);
  }
}
