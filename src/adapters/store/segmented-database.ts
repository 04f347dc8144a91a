// One database of the local store, kept as one PouchDB database (a leveldb directory) per so many
// documents. Measured with 10 million predictions in one day's period: leveldb's CPU per write rose by a
// fifth and its write rate fell to 0.76 of the start as that directory grew, because history keys begin
// with the session and so land all over the key space, and compaction rewrites more the bigger the tree.
// A new directory every million documents keeps each tree small. Reads ask every segment (newest first
// where one answer is enough); a period is still dropped whole, segments and all.

/** Documents a period database's segment holds before the next begins: at the bench's 16,000 writes a
 * second, one a minute; at 100 a second, more than a day (so one segment for a day's period). */
export const SEGMENT_DOCS = 1_000_000;

/** A segment of `name`: the first is `name` itself (as before segments), the next `name.2`, `name.3` … */
export function segmentName(name: string, index: number): string {
  return index === 0 ? name : `${name}.${index + 1}`;
}

/** The database and the place among its segments of a segment's name. */
export function parseSegment(segment: string): { name: string; index: number } {
  const match = /^(.+)\.(\d+)$/.exec(segment);
  return match ? { name: match[1] as string, index: Number(match[2]) - 1 } : { name: segment, index: 0 };
}

interface AllDocsRow {
  readonly id: string;
  readonly value?: { rev: string; deleted?: boolean };
  readonly doc?: unknown;
  readonly error?: string;
}

export interface WrittenRow {
  readonly ok?: boolean;
  readonly error?: unknown;
  readonly status?: number;
  readonly message?: string;
}

export interface SegmentQuery {
  readonly startkey?: string;
  readonly endkey?: string;
  readonly descending?: boolean;
  readonly limit?: number;
  readonly include_docs?: boolean;
}

export class SegmentedDatabase {
  /** Oldest first; new documents go to the last. */
  private readonly segments: PouchDB.Database[] = [];
  /** When each segment began taking writes: its creation, or after a restart the time of the oldest id
   * it holds (Infinity when its ids carry no time, so that the segment before it is always asked). */
  private readonly startedAt: number[] = [];
  /** Documents written to the newest segment (its count when opened, then what was added). */
  private newestDocs = 0;

  constructor(
    readonly name: string,
    /** Opens (creating if need be) the segment of that name. */
    private readonly openSegment: (segment: string) => PouchDB.Database,
    private readonly docsPerSegment: number,
    /** The time an id was made, for ids that carry it (UUID v7): an id made after a segment was
     * followed by the next cannot be in it, so it is not looked for there. */
    private readonly timeOfId: (id: string) => number | null = () => null,
  ) {}

  /** A database that never splits, in one segment already open. */
  static of(name: string, db: PouchDB.Database): SegmentedDatabase {
    const whole = new SegmentedDatabase(name, () => db, Number.POSITIVE_INFINITY);
    whole.segments.push(db);
    whole.startedAt.push(Number.NEGATIVE_INFINITY);
    return whole;
  }

  /** Takes the segments found on disk, in any order; then counts what the newest holds. */
  async adopt(found: readonly string[]): Promise<void> {
    const ordered = [...found].sort((a, b) => parseSegment(a).index - parseSegment(b).index);
    for (const segment of ordered) {
      const db = this.openSegment(segment);
      const [oldest] = (await db.allDocs({ limit: 1 })).rows;
      this.segments.push(db);
      this.startedAt.push(oldest ? (this.timeOfId(oldest.id) ?? Number.POSITIVE_INFINITY) : Number.POSITIVE_INFINITY);
    }
    const newest = this.segments.at(-1);
    this.newestDocs = newest ? (await newest.info()).doc_count : 0;
  }

  all(): readonly PouchDB.Database[] {
    return this.segments;
  }

  /** The documents with these ids (null where none). Each id is asked first of the segment that was
   * newest when it was made (the newest, for ids that carry no time), then of the others, all at once. */
  async getMany(ids: readonly string[]): Promise<(unknown | null)[]> {
    const found = new Map<string, unknown>();
    const ask = async (segment: number, some: readonly string[]) => {
      if (some.length === 0) return;
      const page = await (this.segments[segment] as PouchDB.Database).allDocs({ keys: [...some], include_docs: true });
      for (const row of page.rows as AllDocsRow[]) if (row.doc) found.set(row.id, row.doc);
    };
    const likely = ids.map((id) => this.newestAt(this.timeOfId(id)));
    await Promise.all(this.segments.map((_, segment) => ask(segment, ids.filter((_, i) => likely[i] === segment))));
    const missing = ids.flatMap((id, i) => (found.has(id) ? [] : [i]));
    if (missing.length > 0 && this.segments.length > 1) {
      await Promise.all(this.segments.map((_, segment) => ask(segment, missing.flatMap((i) => (likely[i] === segment ? [] : [ids[i] as string])))));
    }
    return ids.map((id) => found.get(id) ?? null);
  }

  /**
   * Writes as one database would: a new document whose id an older segment holds is a conflict; an update
   * goes to the segment that holds that revision; a delete removes the id from every segment (a document
   * written again after a redelivery can be in two). `repeatsHarmless`: the caller's ids may repeat across
   * segments without harm, so older segments are not asked; asking costs a lookup per document and
   * segment, about what the write itself costs.
   */
  async write(docs: readonly Written[], repeatsHarmless = false): Promise<WrittenRow[]> {
    if (this.segments.length === 0 || this.newestDocs >= this.docsPerSegment) {
      this.segments.push(this.openSegment(segmentName(this.name, this.segments.length)));
      this.startedAt.push(Date.now());
      this.newestDocs = 0;
    }
    const newest = this.segments.length - 1;
    const placed = repeatsHarmless || newest === 0 ? docs.map((doc, i) => ({ segment: newest, i, doc })) : await this.place(docs);
    const rows: WrittenRow[] = docs.map(() => CONFLICT);
    const bySegment = Map.groupBy(placed, (one) => one.segment);
    await Promise.all(
      [...bySegment].map(async ([segment, some]) => {
        const written = (await (this.segments[segment] as PouchDB.Database).bulkDocs(some.map((one) => one.doc as PouchDB.Core.PutDocument<{}>))) as WrittenRow[];
        some.forEach((one, k) => {
          const row = written[k] as WrittenRow;
          // A delete from two segments answers as one: done if either was.
          if (rows[one.i] === CONFLICT || !row.error) rows[one.i] = row;
          if (segment === newest && !one.doc._rev && !row.error) this.newestDocs++;
        });
      }),
    );
    return rows;
  }

  /** The rows of every segment in the query's order, each id once, at most `limit`. */
  async range(query: SegmentQuery): Promise<AllDocsRow[]> {
    const pages = await Promise.all(this.segments.map((segment) => segment.allDocs(query)));
    const rows = new Map<string, AllDocsRow>();
    for (const page of pages.reverse()) for (const row of page.rows as AllDocsRow[]) if (!rows.has(row.id)) rows.set(row.id, row);
    const sorted = [...rows.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    if (query.descending) sorted.reverse();
    return query.limit === undefined ? sorted : sorted.slice(0, query.limit);
  }

  async count(): Promise<number> {
    const infos = await Promise.all(this.segments.map((segment) => segment.info()));
    return infos.reduce((sum, info) => sum + info.doc_count, 0);
  }

  async destroy(): Promise<void> {
    await Promise.all(this.segments.map((segment) => segment.destroy()));
    this.segments.length = 0;
  }

  /** Where each document goes (see write); a document placed nowhere is a conflict. Each segment is asked
   * only for the documents it may hold: a lookup costs PouchDB about what a write does. */
  private async place(docs: readonly Written[]): Promise<Placement[]> {
    const newest = this.segments.length - 1;
    const asked = this.segments.map((_, segment) => docs.flatMap((doc, i) => (doc._rev || (segment < newest && this.mayHold(segment, doc._id)) ? [i] : [])));
    /** The live revision of a document (by its place in the write) in a segment, by `segment:i`. */
    const live = new Map<string, string>();
    await Promise.all(
      asked.map(async (places, segment) => {
        if (places.length === 0) return;
        const { rows } = await (this.segments[segment] as PouchDB.Database).allDocs({ keys: places.map((i) => (docs[i] as Written)._id) });
        (rows as AllDocsRow[]).forEach((row, k) => {
          if (row.value && !row.value.deleted) live.set(`${segment}:${places[k]}`, row.value.rev);
        });
      }),
    );
    const holders = (i: number) => this.segments.flatMap((_, segment) => (live.has(`${segment}:${i}`) ? [segment] : []));
    return docs.flatMap((doc, i) => {
      if (doc._deleted) return holders(i).map((segment) => ({ segment, i, doc: { ...doc, _rev: live.get(`${segment}:${i}`) as string } }));
      if (doc._rev) return [{ segment: holders(i).find((segment) => live.get(`${segment}:${i}`) === doc._rev) ?? newest, i, doc }];
      return holders(i).some((segment) => segment < newest) ? [] : [{ segment: newest, i, doc }];
    });
  }

  /** The segment that was newest at `time` (the newest when the time is not known). */
  private newestAt(time: number | null): number {
    const newest = this.segments.length - 1;
    if (time === null) return newest;
    for (let segment = newest; segment > 0; segment--) if ((this.startedAt[segment] as number) <= time) return segment;
    return 0;
  }

  /** Whether the segment may hold the id: unless the id was made well after the next segment began. */
  private mayHold(segment: number, id: string): boolean {
    const time = this.timeOfId(id);
    const next = this.startedAt[segment + 1] ?? Number.POSITIVE_INFINITY;
    return time === null || time < next + ID_CLOCK_SKEW_MS;
  }
}

/** How far the clock of whoever made an id may run ahead of the store's. A local store's writer runs in
 * the process (or on the machine) that made the ids; a redelivery keeps its old id, and so is looked for. */
const ID_CLOCK_SKEW_MS = 5_000;

interface Written {
  readonly _id: string;
  readonly _rev?: string;
  readonly _deleted?: boolean;
}

interface Placement {
  readonly segment: number;
  /** The document's place in the write. */
  readonly i: number;
  readonly doc: Written;
}

const CONFLICT: WrittenRow = Object.freeze({ error: 'conflict', status: 409, message: 'Document update conflict' });
