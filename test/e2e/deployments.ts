// The service as a user runs it, once per transport of the registry, for the end-to-end suites:
//   memory: local mode in this process (the README's `npm start`, on a throwaway store);
//   kafka:  cluster mode, a consumer and a gateway as separate processes on a real Kafka and a CouchDB-API
//           server (test/helpers/cluster-services.ts finds or starts them).
// A suite written once against a Deployment runs against each, so both modes keep one contract.
import { afterAll, beforeAll, describe, test } from 'bun:test';
import { CouchStore } from '../../src/adapters/store/couch/couch-store.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { PredictionResult, Store } from '../../src/adapters/store/store.ts';
import { TRANSPORT_NAMES, type TransportName } from '../../src/adapters/transport/registry.ts';
import { clusterServices } from '../helpers/cluster-services.ts';
import { startLocal } from '../helpers/local-stratus.ts';
import { waitFor } from '../helpers/wait.ts';
import { ProcessGroup, withLogs } from './cluster-processes.ts';

export interface Deployment {
  readonly transport: TransportName;
  /** The gateway's base URL. */
  readonly url: string;
  /** The store the deployment writes to, opened for the test to read. */
  readonly store: Store;
  /** The /metrics of every process of the deployment, one after the other. */
  metrics(): Promise<string>;
  stop(): Promise<void>;
}

/** Flags every role of the deployment starts with, as a user would pass them. */
type Deploy = (flags: string[]) => Promise<Deployment>;

const deployLocal: Deploy = async (flags) => {
  const store = new PouchStore({ adapter: 'memory', directory: `e2e-${crypto.randomUUID()}` });
  const stratus = await startLocal(flags, { store });
  const metrics = () => fetch(`${stratus.url}/metrics`).then((r) => r.text());
  return { transport: 'memory', url: stratus.url, store, metrics, stop: () => stratus.stop() };
};

const deployCluster: Deploy = async (flags) => {
  const services = await clusterServices();
  if (!services) throw new Error('no cluster services');
  const target = { kafkaBrokers: services.kafkaBrokers, couchdbUrl: services.couchdbUrl, prefix: `e2e_${Date.now()}_`, replication: 1 };
  const group = new ProcessGroup();
  // The consumer first: the gateway gets ready once a consumer has announced its model.
  const consumer = group.start('consumer', target, flags);
  const gateway = group.start('gateway', target, flags);
  await withLogs(group, () => Promise.all([consumer.waitReady(), gateway.waitReady()]));
  const store = new CouchStore({ url: target.couchdbUrl, prefix: target.prefix });
  await store.open();
  return {
    transport: 'kafka',
    url: gateway.url,
    store,
    metrics: async () => (await Promise.all([gateway.metrics(), consumer.metrics()])).join('\n'),
    async stop() {
      await store.close();
      await group.dispose();
    },
  };
};

const DEPLOY: Record<TransportName, Deploy> = { memory: deployLocal, kafka: deployCluster };

/**
 * Declares `suite` once per transport, each against its own deployment started with `flags`. A transport
 * whose services this machine cannot provide is skipped with the loud warning cluster-services prints
 * (a failure under STRATUS_REQUIRE_CLUSTER=1, as in CI).
 */
export async function describeEachTransport(title: string, flags: string[], suite: (deployment: () => Deployment) => void): Promise<void> {
  for (const transport of TRANSPORT_NAMES) {
    if (transport === 'kafka' && !(await clusterServices())) {
      test.skip(`${title} on ${transport} (no Kafka on this machine: see the warning above)`, () => {});
      continue;
    }
    describe(`${title} on transport ${transport}`, () => {
      let deployment: Deployment | null = null;
      beforeAll(async () => {
        deployment = await DEPLOY[transport](flags);
      }, 180_000);
      afterAll(() => deployment?.stop(), 60_000);
      suite(() => {
        if (!deployment) throw new Error(`the ${transport} deployment did not start`);
        return deployment;
      });
    });
  }
}

/** The stored result of a request; a consumer may write it just after answering, so this waits a little. */
export async function storedResult(deployment: Deployment, id: string, timeoutMs = 5_000): Promise<PredictionResult | null> {
  let result: PredictionResult | null = null;
  await waitFor(async () => (result = await deployment.store.getResult(id)) !== null, timeoutMs, 20).catch(() => {});
  return result;
}
