// Group commit for CouchDB's bulk calls: what callers submit while an earlier request is out waits and goes
// together as the next request, each caller still getting the rows of its own items. Writes (_bulk_docs,
// documents in, one row per document) and look-ups (_all_docs with keys, ids in, one row per id) both go
// this way.
// Why: a CouchDB-API server pays far more per request than per document (pouchdb-server, measured here:
// 2.45 ms of its CPU per document at 1 document a request, 0.55 ms at 8, 0.18 ms at 128), and a consumer
// writes one small batch per model call, as a gateway looks up one Idempotency-Key per request. At low
// load a request goes out on the next turn; under load the queue fills while the server works, so
// requests grow with the load by themselves (src/flow/batcher.ts). `minIntervalMs` goes further under
// steady load: at most one request per interval, so that the server's per-request price is shared by
// more documents (for writes, whose acknowledgements alone wait for it: a consumer replies before its
// results are stored).
import { Batcher, type BatchPolicy } from '../../../flow/batcher.ts';
import type { Clock } from '../../../flow/clock.ts';

export type BulkRow = { id?: string; ok?: boolean; rev?: string; error?: string; reason?: string };

export interface BulkQueueOptions {
  /** Requests on the wire at once; fewer spread a busy server's work over fewer, bigger requests. */
  readonly maxInFlight: number;
  /** Items per request at most (a single submission bigger than this still goes out whole, alone). */
  readonly maxDocs: number;
  /** Shortest time between the starts of two requests while submissions keep coming; 0: no wait. */
  readonly minIntervalMs?: number;
  /** Time behind an interface, so the interval can be tested without sleeping. */
  readonly clock?: Clock;
}

interface Submission<Item, Row> {
  readonly items: readonly Item[];
  readonly resolve: (rows: Row[]) => void;
  readonly reject: (error: unknown) => void;
}

export class BulkQueue<Item = object, Row = BulkRow> {
  private readonly submissions: Batcher<Submission<Item, Row>>;

  /** `send` makes one request and resolves with one row per item, in order. */
  constructor(send: (items: Item[]) => Promise<Row[]>, options: BulkQueueOptions) {
    const policy: BatchPolicy = { maxSize: options.maxDocs, maxRunning: options.maxInFlight, minIntervalMs: options.minIntervalMs ?? 0 };
    this.submissions = new Batcher<Submission<Item, Row>>(policy, (group) => flush(send, group), (submission) => submission.items.length, options.clock);
  }

  /** Resolves with the rows of `items`, in order, once the request carrying them is answered. */
  submit(items: readonly Item[]): Promise<Row[]> {
    if (items.length === 0) return Promise.resolve([]);
    return new Promise<Row[]>((resolve, reject) => this.submissions.add({ items, resolve, reject }));
  }
}

async function flush<Item, Row>(send: (items: Item[]) => Promise<Row[]>, group: readonly Submission<Item, Row>[]): Promise<void> {
  const items = group.length === 1 ? [...(group[0] as Submission<Item, Row>).items] : group.flatMap((submission) => submission.items);
  let rows: Row[];
  try {
    rows = await send(items);
  } catch (error) {
    for (const submission of group) submission.reject(error);
    return;
  }
  let offset = 0;
  for (const submission of group) {
    submission.resolve(rows.slice(offset, offset + submission.items.length));
    offset += submission.items.length;
  }
}
