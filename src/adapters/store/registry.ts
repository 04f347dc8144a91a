// The stores this build offers, by the name --store takes: the one list of them. Each declares what it
// can do and which settings it needs; src/config.ts checks a configuration against that. The CouchDB
// client is imported only when asked for.
import { join } from 'node:path';
import { STORE_WORKER } from '../../workers.ts';
import { adapterNamed } from '../adapter-named.ts';
import type { CouchCredentials } from './couch/couch-credentials.ts';
import { PouchStore } from './pouch-store.ts';
import type { RetentionPolicy, Store } from './store.ts';
import { WorkerStore } from './worker-store.ts';

export interface StoreCapabilities {
  /** What was saved is there after a restart, for this process or the next one (a trainer, say). */
  readonly durable: boolean;
}

/** The settings a store may read; a Config has them all. */
export interface StoreSettings {
  readonly dataDir: string;
  readonly couchdbUrl: string | null;
  readonly couchdbPrefix: string;
  readonly couchdbCredentials: CouchCredentials | null;
  readonly retentionMs: number;
  readonly historyLimit: number;
  readonly feedbackLimit: number;
}

export const retentionOf = ({ retentionMs, historyLimit, feedbackLimit }: StoreSettings): RetentionPolicy => ({ retentionMs, historyLimit, feedbackLimit });

export interface StoreAdapter {
  readonly capabilities: StoreCapabilities;
  /** Settings that must be given (non-empty) for this store. */
  readonly requires: readonly (keyof StoreSettings)[];
  create(settings: StoreSettings): Store | Promise<Store>;
}

const STORES = {
  // On its own thread: PouchDB's per-document work would otherwise compete with HTTP on the main one.
  pouchdb: {
    capabilities: { durable: true },
    requires: [],
    create: (settings: StoreSettings) => new WorkerStore({ adapter: 'leveldb', directory: join(settings.dataDir, 'store'), retention: retentionOf(settings) }, STORE_WORKER),
  },
  memory: {
    capabilities: { durable: false },
    requires: [],
    create: (settings: StoreSettings) => new PouchStore({ adapter: 'memory', directory: `stratus-${crypto.randomUUID()}`, retention: retentionOf(settings) }),
  },
  // On the main thread: it only serialises JSON; CouchDB does the per-document work.
  couchdb: {
    capabilities: { durable: true },
    requires: ['couchdbUrl'],
    async create(settings: StoreSettings) {
      // The configuration checks refuse couchdb without a URL; settings built by hand could still lack one.
      if (!settings.couchdbUrl) throw new Error("store 'couchdb' needs a server URL");
      const { CouchStore } = await import('./couch/couch-store.ts');
      return new CouchStore({ url: settings.couchdbUrl, prefix: settings.couchdbPrefix, credentials: settings.couchdbCredentials, retention: retentionOf(settings) });
    },
  },
} as const satisfies Record<string, StoreAdapter>;

export type StoreName = keyof typeof STORES;
export const STORE_NAMES = Object.freeze(Object.keys(STORES) as StoreName[]);

export const storeAdapter = (name: string): StoreAdapter => adapterNamed<StoreAdapter>('store', STORES, name);

export const createStore = (name: string, settings: StoreSettings): Promise<Store> => Promise.resolve(storeAdapter(name).create(settings));
