// Adapters are chosen by name (--transport, --store). Cluster adapters register here when they exist;
// asking for one that is missing names the ones that are available.
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { MemoryTransport } from './memory-transport.ts';
import { KafkaTransport } from './kafka-transport.ts';
import { CouchStore } from './couch-store.ts';
import { PouchStore } from './pouch-store.ts';
import { WorkerStore } from './worker-store.ts';
import { STORE_WORKER } from '../workers.ts';
import type { Store } from './store.ts';
import type { Transport } from './transport.ts';

type Factory<T> = (config: Config) => T;

const transports = new Map<string, Factory<Transport>>([
  ['memory', () => new MemoryTransport()],
  [
    'kafka',
    (config) =>
      new KafkaTransport({
        brokers: config.kafkaBrokers,
        clientId: config.kafkaClientId,
        partitions: config.kafkaPartitions,
        replicationFactor: config.kafkaReplication,
      }),
  ],
]);

const stores = new Map<string, Factory<Store>>([
  // On its own thread: PouchDB's per-document work would otherwise compete with HTTP on the main one.
  ['pouchdb', (config) => new WorkerStore({ adapter: 'leveldb', directory: join(config.dataDir, 'store') }, STORE_WORKER)],
  ['memory', () => new PouchStore({ adapter: 'memory', directory: `stratus-${crypto.randomUUID()}` })],
  // On the main thread: it only serialises JSON; CouchDB does the per-document work.
  ['couchdb', (config) => new CouchStore({ url: requireCouchUrl(config), prefix: config.couchdbPrefix, credentials: config.couchdbCredentials })],
]);

function requireCouchUrl(config: Config): string {
  // parseCli refuses --store couchdb without a URL; a Config built by hand could still lack one.
  if (!config.couchdbUrl) throw new UnknownAdapterError("store 'couchdb' needs --couchdb-url (or COUCHDB_URL)");
  return config.couchdbUrl;
}

export class UnknownAdapterError extends Error {
  override readonly name = 'UnknownAdapterError';
}

function resolve<T>(kind: string, registry: Map<string, Factory<T>>, name: string, config: Config): T {
  const factory = registry.get(name);
  if (!factory) {
    throw new UnknownAdapterError(`${kind} '${name}' is not available in this build; available: ${[...registry.keys()].join(', ')}`);
  }
  return factory(config);
}

export const createTransport = (config: Config): Transport => resolve('transport', transports, config.transport, config);
export const createStore = (config: Config): Store => resolve('store', stores, config.store, config);
