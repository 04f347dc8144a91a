// The transports this build offers, by the name --transport takes: the one list of them. Each declares
// what it can do and which settings it needs; src/config.ts checks a configuration against that, so a
// combination that cannot work is refused at start with one line. The cluster transport is imported only
// when asked for: kafkajs would add hundreds of milliseconds to every local start.
import { adapterNamed } from '../adapter-named.ts';
import type { KafkaSasl, KafkaTls } from './kafka/security.ts';
import { MemoryTransport } from './memory-transport.ts';
import type { Transport } from './transport.ts';

export interface TransportCapabilities {
  /** Separate processes meet on it, so roles and training ranks can run apart. */
  readonly crossProcess: boolean;
}

/** The settings a transport may read; a Config has them all. */
export interface TransportSettings {
  readonly kafkaBrokers: readonly string[];
  readonly kafkaClientId: string;
  readonly kafkaPartitions: number;
  readonly kafkaReplication: number;
  /** TLS to the brokers; absent or null: plain TCP. */
  readonly kafkaTls?: KafkaTls | null;
  /** The SASL user the brokers' ACLs know this role by; absent or null: none. */
  readonly kafkaSasl?: KafkaSasl | null;
  /** This process's static member id in its consumer groups (group.instance.id); absent or null: none. */
  readonly kafkaGroupInstanceId?: string | null;
  /** Which role the process runs: only those that send requests (gateway, all) get a reply inbox. */
  readonly role?: 'gateway' | 'consumer' | 'trainer' | 'all';
}

export interface TransportAdapter {
  readonly capabilities: TransportCapabilities;
  /** Settings that must be given (non-empty) for this transport. */
  readonly requires: readonly (keyof TransportSettings)[];
  create(settings: TransportSettings): Transport | Promise<Transport>;
}

const TRANSPORTS = {
  memory: { capabilities: { crossProcess: false }, requires: [], create: () => new MemoryTransport() },
  kafka: {
    capabilities: { crossProcess: true },
    requires: ['kafkaBrokers'],
    async create(settings: TransportSettings) {
      const { KafkaTransport } = await import('./kafka/kafka-transport.ts');
      return new KafkaTransport({
        brokers: settings.kafkaBrokers,
        clientId: settings.kafkaClientId,
        partitions: settings.kafkaPartitions,
        replicationFactor: settings.kafkaReplication,
        security: { tls: settings.kafkaTls ?? null, sasl: settings.kafkaSasl ?? null },
        // Consumers and trainers only publish and subscribe: no inbox, so their users need no right to
        // read replies (src/adapters/transport/kafka/acls.ts).
        replyInbox: settings.role !== 'consumer' && settings.role !== 'trainer',
        groupInstanceId: settings.kafkaGroupInstanceId ?? undefined,
      });
    },
  },
} as const satisfies Record<string, TransportAdapter>;

export type TransportName = keyof typeof TRANSPORTS;
export const TRANSPORT_NAMES = Object.freeze(Object.keys(TRANSPORTS) as TransportName[]);

export const transportAdapter = (name: string): TransportAdapter => adapterNamed<TransportAdapter>('transport', TRANSPORTS, name);

export const createTransport = (name: string, settings: TransportSettings): Promise<Transport> => Promise.resolve(transportAdapter(name).create(settings));
