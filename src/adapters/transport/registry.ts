// Adapters are chosen by name (--transport, --store); asking for a missing one names those available.
// The cluster adapters are imported only when asked for: kafkajs and nano would add hundreds of
// milliseconds to every local start.
import { join } from 'node:path';
import type { Config } from '../../config.ts';
import { MemoryTransport } from './memory-transport.ts';
import { PouchStore } from '../store/pouch-store.ts';
import { WorkerStore } from '../store/worker-store.ts';
import { STORE_WORKER } from '../../workers.ts';
import type { Store } from '../store/store.ts';
import type { Transport } from './transport.ts';

type Factory<T> = (config: Config) => T | Promise<T>;

const transports = new Map<string, Factory<Transport>>([
  ['memory', () => new MemoryTransport()],
  [
    'kafka',
    async (config) => {
      const { KafkaTransport } = await import('./kafka/kafka-transport.ts');
      return new KafkaTransport({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        partitions: config.kafkaPartitions,
        replicationFactor: config.kafkaReplication,
      });
    },
  ],
]);

const stores = new Map<string, Factory<Store>>([
  // On its own thread: PouchDB's per-document work would otherwise compete with HTTP on the main one.
  ['pouchdb', (config) => new WorkerStore({ adapter: 'leveldb', directory: join(config.dataDir, 'store') }, STORE_WORKER)],
  ['memory', () => new PouchStore({ adapter: 'memory', directory: `stratus-${crypto.randomUUID()}` })],
  // On the main thread: it only serialises JSON; CouchDB does the per-document work.
  [
    'couchdb',
    async (config) => {
      const url = requireCouchUrl(config);
      const { CouchStore } = await import('../store/couch/couch-store.ts');
      return new CouchStore({ url, prefix: config.couchdbPrefix, credentials: config.couchdbCredentials });
    },
  ],
]);

function requireCouchUrl(config: Config): string {
  // parseCli refuses --store couchdb without a URL; a Config built by hand could still lack one.
  if (!config.couchdbUrl) throw new UnknownAdapterError("store 'couchdb' needs --couchdb-url (or COUCHDB_URL)");
  return config.couchdbUrl;
}

export class UnknownAdapterError extends Error {
  override readonly name = 'UnknownAdapterError';
}

async function resolve<T>(kind: string, registry: Map<string, Factory<T>>, name: string, config: Config): Promise<T> {
  const factory = registry.get(name);
  if (!factory) {
    throw new UnknownAdapterError(`${kind} '${name}' is not available in this build; available: ${[...registry.keys()].join(', ')}`);
  }
  return factory(config);
}

export const createTransport = (config: Config): Promise<Transport> => resolve('transport', transports, config.transport, config);
export const createStore = (config: Config): Promise<Store> => resolve('store', stores, config.store, config);
