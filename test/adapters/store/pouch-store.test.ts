import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../../src/adapters/store/pouch-store.ts';
import type { RetentionPolicy } from '../../../src/adapters/store/store.ts';
import { WorkerStore } from '../../../src/adapters/store/worker-store.ts';
import { STORE_WORKER } from '../../../src/workers.ts';
import { runStoreConformance } from './store.conformance.ts';

runStoreConformance('pouchdb (leveldb on disk)', 'pouchdb', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'stratus-store-'));
  const open = async (retention?: RetentionPolicy) => {
    const store = new PouchStore({ adapter: 'leveldb', directory, ...(retention ? { retention } : {}) });
    await store.open();
    return store;
  };
  return { open, reopen: open, teardown: () => rm(directory, { recursive: true, force: true }) };
});

// Every period database split every three documents: what a store split by volume (segmented-database.ts)
// must answer is what one database answers. Users get a segment per 1,000,000 documents (SEGMENT_DOCS),
// which the conformance suite's few documents would never fill; the store without segmentDocs runs above.
runStoreConformance('pouchdb split into segments of 3 documents (leveldb on disk)', 'pouchdb', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'stratus-segmented-store-'));
  const open = async (retention?: RetentionPolicy) => {
    const store = new PouchStore({ adapter: 'leveldb', directory, segmentDocs: 3, ...(retention ? { retention } : {}) });
    await store.open();
    return store;
  };
  return { open, reopen: open, teardown: () => rm(directory, { recursive: true, force: true }) };
});

runStoreConformance('pouchdb (memory)', 'memory', async () => {
  const directory = `conformance-${crypto.randomUUID()}`;
  return {
    async open(retention?: RetentionPolicy) {
      const store = new PouchStore({ adapter: 'memory', directory, ...(retention ? { retention } : {}) });
      await store.open();
      return store;
    },
    async teardown() {},
  };
});

runStoreConformance('pouchdb on its own thread (leveldb on disk)', 'pouchdb', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'stratus-worker-store-'));
  const open = async (retention?: RetentionPolicy) => {
    const store = new WorkerStore({ adapter: 'leveldb', directory, ...(retention ? { retention } : {}) }, STORE_WORKER);
    await store.open();
    return store;
  };
  return { open, reopen: open, teardown: () => rm(directory, { recursive: true, force: true }) };
});
