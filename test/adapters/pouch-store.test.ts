import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PouchStore } from '../../src/adapters/pouch-store.ts';
import { runStoreConformance } from './store.conformance.ts';

runStoreConformance('pouchdb (leveldb on disk)', async () => {
  const directory = await mkdtemp(join(tmpdir(), 'stratus-store-'));
  const open = async () => {
    const store = new PouchStore({ adapter: 'leveldb', directory });
    await store.open();
    return store;
  };
  return { open, reopen: open, teardown: () => rm(directory, { recursive: true, force: true }) };
});

runStoreConformance('pouchdb (memory)', async () => {
  const directory = `conformance-${crypto.randomUUID()}`;
  return {
    async open() {
      const store = new PouchStore({ adapter: 'memory', directory });
      await store.open();
      return store;
    },
    async teardown() {},
  };
});
