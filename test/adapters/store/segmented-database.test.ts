// A period database split by volume answers as one database would: ids, conflicts, updates, deletes and
// ranges across its segments. (The whole store conformance suite also runs on segments of three
// documents: pouch-store.test.ts.)
import { expect, test } from 'bun:test';
import { PouchDB } from '../../../src/embedded/pouchdb.ts';
import { timeOfId } from '../../../src/adapters/store/periods.ts';
import { parseSegment, SegmentedDatabase, segmentName } from '../../../src/adapters/store/segmented-database.ts';

// Segments of 3 documents, not the 1,000,000 users get (SEGMENT_DOCS): a test fills several with a handful.
function split(docsPerSegment = 3) {
  const prefix = `segments-${crypto.randomUUID()}`;
  const opened: string[] = [];
  const open = (segment: string) => {
    opened.push(segment);
    return new PouchDB(`${prefix}/${segment}`, { adapter: 'memory' });
  };
  return { db: new SegmentedDatabase('results-20261205-000000', open, docsPerSegment), opened, open };
}

const docs = (...ids: string[]) => ids.map((id) => ({ _id: id, value: id }));

test('a new segment begins every so many documents, named after the database', async () => {
  const { db, opened } = split(3);
  for (const batch of [docs('a', 'b'), docs('c'), docs('d', 'e', 'f'), docs('g')]) {
    expect((await db.write(batch)).every((row) => !row.error)).toBe(true);
  }
  // a b c | d e f | g: a segment is full once it holds three, and a batch is never split.
  expect(opened).toEqual(['results-20261205-000000', 'results-20261205-000000.2', 'results-20261205-000000.3']);
  expect(opened.map(parseSegment)).toEqual([0, 1, 2].map((index) => ({ name: 'results-20261205-000000', index })));
  expect(await db.count()).toBe(7);
  expect(((await db.getMany(['g', 'a', 'x', 'e'])) as ({ value: string } | null)[]).map((doc) => doc?.value ?? null)).toEqual(['g', 'a', null, 'e']);
});

test('an id an older segment holds is taken; an update goes to the segment that holds it', async () => {
  const { db } = split(2);
  await db.write(docs('a', 'b'));
  await db.write(docs('c'));
  const [taken, fresh] = await db.write(docs('a', 'd'));
  expect(taken?.status).toBe(409);
  expect(fresh?.error).toBeUndefined();
  const [row] = await db.range({ startkey: 'a', endkey: 'a' });
  const [updated] = await db.write([{ _id: 'a', _rev: row?.value?.rev as string, value: 'a2' } as never]);
  expect(updated?.error).toBeUndefined();
  expect(((await db.getMany(['a'])) as { value: string }[])[0]?.value).toBe('a2');
  expect(await db.count()).toBe(4);
});

test('ranges merge the segments in order, each id once; a delete removes every copy', async () => {
  const { db } = split(2);
  await db.write(docs('k1', 'k4'));
  await db.write(docs('k2', 'k5'));
  await db.write(docs('k3'));
  // Written again where repeats are harmless: a second copy of k1, in the newest segment.
  await db.write(docs('k1'), true);
  expect((await db.range({})).map((row) => row.id)).toEqual(['k1', 'k2', 'k3', 'k4', 'k5']);
  expect((await db.range({ descending: true, limit: 3 })).map((row) => row.id)).toEqual(['k5', 'k4', 'k3']);
  expect((await db.range({ startkey: 'k2', endkey: 'k4' })).map((row) => row.id)).toEqual(['k2', 'k3', 'k4']);
  const [k1] = await db.range({ startkey: 'k1', endkey: 'k1' });
  const [deleted] = await db.write([{ _id: 'k1', _rev: k1?.value?.rev as string, _deleted: true }]);
  expect(deleted?.error).toBeUndefined();
  expect((await db.range({})).map((row) => row.id)).toEqual(['k2', 'k3', 'k4', 'k5']);
  expect(await db.getMany(['k1'])).toEqual([null]);
  // Gone from every segment, it may be written anew.
  expect((await db.write(docs('k1')))[0]?.error).toBeUndefined();
});

test('segments found again after a restart: reads see them all, writes go on in the newest until it is full', async () => {
  const first = split(3);
  await first.db.write(docs('a', 'b', 'c'));
  await first.db.write(docs('d'));
  const again = new SegmentedDatabase('results-20261205-000000', first.open, 3);
  first.opened.length = 0;
  await again.adopt([segmentName('results-20261205-000000', 1), 'results-20261205-000000']);
  expect((await again.range({})).map((row) => row.id)).toEqual(['a', 'b', 'c', 'd']);
  expect((await again.write(docs('a')))[0]?.status).toBe(409);
  await again.write(docs('e', 'f'));
  await again.write(docs('g'));
  expect(first.opened).toEqual(['results-20261205-000000', 'results-20261205-000000.2', 'results-20261205-000000.3']);
});

test('ids that carry their time: one made before a segment began is still found in the older one', async () => {
  const prefix = `segments-${crypto.randomUUID()}`;
  const db = new SegmentedDatabase('results-20261205-000000', (segment) => new PouchDB(`${prefix}/${segment}`, { adapter: 'memory' }), 2, timeOfId);
  const early = Bun.randomUUIDv7();
  await db.write(docs(early, Bun.randomUUIDv7()));
  await db.write(docs(Bun.randomUUIDv7()));
  // A redelivery keeps its old id: taken, though it is written while the second segment is the newest.
  expect((await db.write(docs(early)))[0]?.status).toBe(409);
  expect((await db.write(docs(Bun.randomUUIDv7())))[0]?.error).toBeUndefined();
  expect(await db.count()).toBe(4);
});
