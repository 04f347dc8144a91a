// What both stores do with prediction results and session history, on top of the few database calls
// each makes its own way (Databases): one database per period (periods.ts), reads across the live ones,
// and a sweep in the background that drops expired periods whole and trims the feedback to its limit.
// PouchStore and CouchStore differ only below that interface.
import { historyKey, isFeedbackId, resultIdOf, sessionRange, trimOrder, type Doc, type FeedbackDoc, type ResultDoc, resultDoc, toResult } from './documents.ts';
import { Periods, SERIES_KINDS, type SeriesKind } from './periods.ts';
import { FEEDBACK_PER_SESSION, StoreError, type PredictionResult, type RetentionPolicy, type SaveOutcome, type SweepReport, type SweepTotals } from './store.ts';

export interface WriteRow {
  readonly ok: boolean;
  /** The id was taken (a document of that id already there). */
  readonly conflict?: boolean;
  readonly reason?: string;
}

export interface RangeRow<T> {
  readonly id: string;
  readonly rev: string;
  readonly doc?: T;
}

export interface WriteOptions {
  /** The ids may be written again later without harm (a history entry names the same result each time):
   * a store that splits a database need not ask its other parts whether they hold them. */
  readonly repeatsHarmless?: boolean;
}

export interface RangeQuery {
  readonly startkey?: string;
  readonly endkey?: string;
  readonly descending?: boolean;
  readonly limit?: number;
  readonly include_docs?: boolean;
}

/** The calls the shared logic needs of a store's databases, named without any prefix. A database that
 * does not exist reads as empty; only `write` creates one. */
export interface Databases {
  /** The databases there are. */
  names(): Promise<string[]>;
  /** The documents with these ids, in order; null where there is none. */
  getMany<T extends Doc>(db: string, ids: readonly string[]): Promise<(T | null)[]>;
  /** One row per document, in order; `conflict` when the id (at that revision) is taken. */
  write(db: string, docs: readonly object[], options?: WriteOptions): Promise<WriteRow[]>;
  range<T extends Doc>(db: string, query: RangeQuery): Promise<RangeRow<T>[]>;
  count(db: string): Promise<number>;
  drop(db: string): Promise<void>;
  /** Makes those of the databases that do not exist yet, where the store may (see start's upkeep). */
  prepare(dbs: readonly string[]): Promise<void>;
}

/** What a store's sweeps do besides looking at which databases there are. */
export interface Upkeep {
  /** Drop expired periods and trim the feedback: off where the store's user may not (a role's own
   * CouchDB user), which leaves it to one that may (`stratus couchdb keep`). */
  readonly sweep: boolean;
  /** Make the current and next period's databases before anyone writes them, for users that may not. */
  readonly ahead: boolean;
}

/** A store whose user may do everything, as one process owning its databases does. */
const FULL_UPKEEP: Upkeep = Object.freeze({ sweep: true, ahead: false });

/** Sweeps run every half period, within these bounds. */
const SWEEP_EVERY_MS = { min: 1_000, max: 5_000 };
/** Over its limit, the feedback is cut to this share of it, so the (whole) read happens seldom. */
const FEEDBACK_TRIM_TO = 0.9;

export class TimeSeries {
  readonly periods: Periods;
  /** The databases there were at the last sweep (and those written since): older periods that are not
   * among them are not asked. Null until known: then every live period is. */
  private existing: Set<string> | null = null;
  /** The sweeps asked for run one after another; the timer's is skipped while one is under way. */
  private sweeps: Promise<unknown> = Promise.resolve();
  private pendingSweeps = 0;
  private sweepTotals: SweepTotals = { sweeps: 0, failed: 0, databasesDropped: 0, feedbackTrimmed: 0, lastSeconds: 0, lastEndedAt: 0 };
  private timer: ReturnType<typeof setInterval> | null = null;
  private upkeep = FULL_UPKEEP;

  constructor(
    private readonly dbs: Databases,
    readonly policy: RetentionPolicy,
  ) {
    this.periods = new Periods(policy.retentionMs);
  }

  /** Sweeps every half period (1 s to 5 s): expired data goes within about a period of expiring. */
  start(upkeep = FULL_UPKEEP): void {
    this.upkeep = upkeep;
    void this.dbs.names().then((names) => (this.existing ??= new Set(names)), () => {});
    const every = Math.min(SWEEP_EVERY_MS.max, Math.max(SWEEP_EVERY_MS.min, this.periods.lengthMs / 2));
    // A failed sweep (the server away) is simply tried again at the next tick.
    this.timer = setInterval(() => {
      if (this.pendingSweeps === 0) void this.sweep().catch(() => {});
    }, every);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sweeps;
  }

  async saveResults(results: readonly PredictionResult[], now = Date.now()): Promise<SaveOutcome[]> {
    if (results.length === 0) return [];
    const current = this.periods.of(now);
    // A redelivery may come a period after the first delivery was stored: look for it there first.
    const stored = await this.storedEarlier(results, now);
    const earlier = new Set([...stored.values()].flat().map((result) => result.id));
    const fresh = results.filter((result) => !earlier.has(result.id));
    const rows = await this.dbs.write(this.name('results', current), fresh.map(resultDoc));
    this.existing?.add(this.name('results', current));
    const outcome = new Map<string, SaveOutcome>(results.map((result) => [result.id, 'exists']));
    fresh.forEach((result, i) => {
      const row = rows[i] as WriteRow;
      if (!row.ok && !row.conflict) throw new StoreError(`could not store result ${result.id}: ${row.reason ?? 'unknown error'}`);
      if (row.ok) outcome.set(result.id, 'created');
    });
    await this.index(current, results.filter((result) => outcome.get(result.id) === 'created'));
    // A result already stored may have lost its history entry (the process or the server went away
    // between the two writes): index it again, in its own period, from the stored copy, whose createdAt
    // fixes the key. (The price: a redelivery that arrives after its session was cleared puts it back.)
    const taken = fresh.filter((result) => outcome.get(result.id) === 'exists').map((result) => result.id);
    if (taken.length > 0) stored.set(current, await this.stored(current, taken));
    for (const [start, copies] of stored) await this.index(start, copies);
    return results.map((result) => outcome.get(result.id) as SaveOutcome);
  }

  async getResult(id: string, now = Date.now()): Promise<PredictionResult | null> {
    for (const start of this.readable('results', this.periods.holding(id, now), now)) {
      const [doc] = await this.dbs.getMany<ResultDoc>(this.name('results', start), [id]);
      if (doc) return toResult(doc);
    }
    return null;
  }

  /** Newest first, at most min(limit, the history limit): newest period first, then the others at once.
   * The entries name their results, which the same period's results database holds. */
  async sessionHistory(sessionId: string, limit: number, now = Date.now()): Promise<PredictionResult[]> {
    const wanted = Math.min(limit, this.policy.historyLimit);
    if (wanted <= 0) return [];
    const [newest, ...older] = this.readable('history', this.periods.live(now), now);
    const read = async (start: number) => {
      const rows = await this.dbs.range(this.name('history', start), { ...sessionRange(sessionId, true), descending: true, limit: wanted });
      return rows.map((row) => ({ start, id: resultIdOf(row.id) }));
    };
    const entries = await read(newest as number);
    if (entries.length < wanted && older.length > 0) entries.push(...(await Promise.all(older.map(read))).flat());
    const listed = entries.slice(0, wanted);
    const byPeriod = Map.groupBy(listed, (entry) => entry.start);
    const copies = await Promise.all([...byPeriod].map(([start, entries]) => this.stored(start, entries.map((entry) => entry.id))));
    const found = new Map(copies.flat().map((result) => [result.id, result]));
    return listed.flatMap((entry) => found.get(entry.id) ?? []);
  }

  async clearSession(sessionId: string, now = Date.now()): Promise<number> {
    const periods = this.readable('history', this.periods.live(now), now);
    const cleared = await Promise.all(periods.map((start) => this.dropEntries(this.name('history', start), sessionRange(sessionId, false))));
    return cleared.reduce((sum, n) => sum + n, 0);
  }

  /** One sweep, after any under way (never two at once); `now` may be given to sweep as at another time. */
  sweep(now = Date.now()): Promise<SweepReport> {
    this.pendingSweeps++;
    const run = this.sweeps.then(() => this.countedSweep(now)).finally(() => this.pendingSweeps--);
    this.sweeps = run.catch(() => {});
    return run;
  }

  totals(): SweepTotals {
    return this.sweepTotals;
  }

  private async countedSweep(now: number): Promise<SweepReport> {
    const started = performance.now();
    const totals = this.sweepTotals;
    const ended = () => ({ lastSeconds: (performance.now() - started) / 1000, lastEndedAt: Date.now() });
    try {
      const report = await this.sweepOnce(now);
      this.sweepTotals = {
        ...totals,
        sweeps: totals.sweeps + 1,
        databasesDropped: totals.databasesDropped + report.databasesDropped,
        feedbackTrimmed: totals.feedbackTrimmed + report.feedbackTrimmed,
        ...ended(),
      };
      return report;
    } catch (error) {
      this.sweepTotals = { ...totals, sweeps: totals.sweeps + 1, failed: totals.failed + 1, ...ended() };
      throw error;
    }
  }

  private async sweepOnce(now: number): Promise<SweepReport> {
    // A read that began just before a period expired may still be reading it: drop it a little later.
    const grace = Math.min(this.periods.lengthMs, 10_000);
    const names = await this.dbs.names();
    this.existing = new Set(names);
    if (!this.upkeep.sweep) return { databasesDropped: 0, feedbackTrimmed: 0 };
    if (this.upkeep.ahead) {
      const current = this.periods.of(now);
      const ahead = [current, current + this.periods.lengthMs].flatMap((start) => SERIES_KINDS.map((kind) => this.name(kind, start)));
      await this.dbs.prepare(ahead.filter((name) => !this.existing!.has(name)));
    }
    const expired = names.filter((name) => {
      const period = Periods.parse(name);
      return period !== null && this.periods.expired(period.start, now - grace);
    });
    for (const name of expired) {
      await this.dbs.drop(name);
      this.existing.delete(name);
    }
    const feedbackTrimmed = await this.trimFeedback();
    return { databasesDropped: expired.length, feedbackTrimmed };
  }

  private async trimFeedback(): Promise<number> {
    const limit = this.policy.feedbackLimit;
    if ((await this.dbs.count('feedback')) <= limit) return 0;
    // Samples only: a store may keep other documents there (CouchDB's write rule, couch-access.ts).
    const rows = (await this.dbs.range<FeedbackDoc>('feedback', { include_docs: true })).filter((row) => isFeedbackId(row.id));
    const byDoc = new Map(rows.flatMap((row) => (row.doc ? [[row.doc, row] as const] : [])));
    // Not simply the oldest: a session's samples past its share, and unreviewed ones, go first (trimOrder).
    const order = trimOrder([...byDoc.keys()], this.policy.feedbackPerSession ?? FEEDBACK_PER_SESSION).map((doc) => byDoc.get(doc)!);
    return this.deleteRows('feedback', order.slice(0, Math.max(0, order.length - Math.floor(limit * FEEDBACK_TRIM_TO))));
  }

  /** Adds the results that belong to a session to its history, in the period `start`. */
  private async index(start: number, all: readonly PredictionResult[]): Promise<void> {
    const results = all.filter((result) => result.sessionId !== undefined);
    if (results.length === 0) return;
    const db = this.name('history', start);
    // The entry is its key alone: the result it names is in the same period's results database.
    const rows = await this.dbs.write(db, results.map((result) => ({ _id: historyKey(result) })), { repeatsHarmless: true });
    this.existing?.add(db);
    const failed = rows.find((row) => !row.ok && !row.conflict);
    if (failed) throw new StoreError(`could not index result in its session: ${failed.reason ?? 'unknown error'}`);
  }

  /** The stored copies of those results that an earlier live period holds, by period. */
  private async storedEarlier(results: readonly PredictionResult[], now: number): Promise<Map<number, PredictionResult[]>> {
    const current = this.periods.of(now);
    const asked = new Map<number, string[]>();
    for (const { id } of results) {
      for (const start of this.periods.holding(id, now)) {
        if (start === current) continue;
        const ids = asked.get(start);
        if (ids) ids.push(id);
        else asked.set(start, [id]);
      }
    }
    const found = new Map<number, PredictionResult[]>();
    for (const [start, ids] of asked) {
      const copies = await this.stored(start, ids);
      if (copies.length > 0) found.set(start, copies);
    }
    return found;
  }

  private async stored(start: number, ids: readonly string[]): Promise<PredictionResult[]> {
    const docs = await this.dbs.getMany<ResultDoc>(this.name('results', start), ids);
    return docs.flatMap((doc) => (doc ? [toResult(doc)] : []));
  }

  private async dropEntries(db: string, range: { startkey: string; endkey: string }): Promise<number> {
    return this.deleteRows(db, await this.dbs.range(db, range));
  }

  private async deleteRows(db: string, rows: readonly RangeRow<unknown & Doc>[]): Promise<number> {
    if (rows.length === 0) return 0;
    const written = await this.dbs.write(db, rows.map((row) => ({ _id: row.id, _rev: row.rev, _deleted: true })));
    return written.filter((row) => row.ok).length;
  }

  /** Of `starts` (newest first), those worth asking: the two newest (another process may have just made
   * them), and older ones that exist as far as this process knows. */
  private readable(kind: SeriesKind, starts: readonly number[], now: number): number[] {
    const recent = this.periods.of(now) - this.periods.lengthMs;
    const existing = this.existing;
    return starts.filter((start) => existing === null || start >= recent || existing.has(this.name(kind, start)));
  }

  private name(kind: SeriesKind, start: number): string {
    return this.periods.name(kind, start);
  }
}
