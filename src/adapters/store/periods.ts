// Time-partitioned storage: prediction results and history entries go into one database per period (of
// the time they were written), and a period's databases are dropped whole once all they hold is older
// than the retention. Why whole databases: deleting documents one by one leaves a tombstone for each in
// CouchDB and PouchDB alike, and leveldb gives space back only when it compacts; dropping a database
// returns its files at once and costs one request, however many documents it held (the pattern CouchDB's
// operators use for time series). The price: data lives up to one period longer than the retention, and
// a read that cannot tell the period of what it looks for asks every live one.

/** Period lengths to choose from, longest first: about eight periods or more within the retention. */
const PERIOD_LENGTHS_MS = [86_400_000, 21_600_000, 3_600_000, 600_000, 60_000, 10_000, 1_000];
const PERIODS_PER_RETENTION = 8;
/** How far the writer's clock may be behind the gateway's (which timed the request id): a minute, or a
 * period if shorter (a writer that far behind with periods that short would look in one period too few). */
const CLOCK_SKEW_MS = 60_000;

export type SeriesKind = 'results' | 'history';
export const SERIES_KINDS: readonly SeriesKind[] = ['results', 'history'];

export class Periods {
  readonly lengthMs: number;

  constructor(readonly retentionMs: number) {
    if (!(retentionMs >= 1_000)) throw new RangeError('retention must be at least 1 s');
    this.lengthMs = PERIOD_LENGTHS_MS.find((length) => length * PERIODS_PER_RETENTION <= retentionMs) ?? 1_000;
  }

  /** The start of the period that holds `timeMs`. */
  of(timeMs: number): number {
    return Math.floor(timeMs / this.lengthMs) * this.lengthMs;
  }

  /** Everything written in the period starting at `start` is past the retention at `now`. */
  expired(start: number, now: number): boolean {
    return start + this.lengthMs <= now - this.retentionMs;
  }

  /** The periods that may still hold data at `now`, newest first. */
  live(now: number): number[] {
    const starts: number[] = [];
    for (let start = this.of(now); !this.expired(start, now); start -= this.lengthMs) starts.push(start);
    return starts;
  }

  /** The live periods a result with this id can have been written in, newest first: those from the time
   * the id carries (less some clock skew), or all of them when it carries none. */
  holding(id: string, now: number): number[] {
    const time = timeOfId(id);
    const live = this.live(now);
    const skew = Math.min(CLOCK_SKEW_MS, this.lengthMs);
    return time === null ? live : live.filter((start) => start + this.lengthMs > time - skew);
  }

  /** Period databases are named `<kind>-YYYYMMDD-HHMMSS` (UTC start): lower case, as CouchDB requires. */
  name(kind: SeriesKind, start: number): string {
    const stamp = new Date(start).toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
    return `${kind}-${stamp}`;
  }

  /** The period of a database name made by `name`, or null for any other name. */
  static parse(name: string): { kind: SeriesKind; start: number } | null {
    const match = /^(results|history)-(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})$/.exec(name);
    if (!match) return null;
    const [, kind, year, month, day, hour, minute, second] = match;
    const start = Date.UTC(Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second));
    return { kind: kind as SeriesKind, start };
  }
}

/** The time a request id was made, when the id says: a UUID version 7 (the gateway's ids) carries its
 * millisecond in its first 48 bits; an Idempotency-Key id, the start of its window. */
export function timeOfId(id: string): number | null {
  const uuid7 = /^([0-9a-f]{8})-([0-9a-f]{4})-7[0-9a-f]{3}-/i.exec(id);
  if (uuid7) return Number.parseInt(`${uuid7[1]}${uuid7[2]}`, 16);
  const keyed = /^idem-(\d{1,9})-/.exec(id);
  if (keyed) return Number(keyed[1]) * KEYED_WINDOW_MS;
  return null;
}

/** Mirrors the Idempotency-Key window (src/actors/idempotency.ts), whose ids name it: one day. */
export const KEYED_WINDOW_MS = 24 * 60 * 60 * 1000;
