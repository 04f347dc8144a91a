// Cluster services in containers, for machines with a Docker engine (test/helpers/cluster-services.ts
// tries this after the environment and before the Kafka jars): the official apache/kafka image as KRaft
// nodes (broker and controller in one) on a network of their own, and the official couchdb image with
// admin credentials made up at run time. testcontainers' reaper (Ryuk) removes them when this process
// ends, however it ends.
// The testcontainers module is imported only when needed: runs that get their services from the
// environment never load it.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { waitForBrokerIds } from '../../ops/dev/kafka-node.ts';
import type { ContainerRuntimeClient, StartedNetwork, StartedTestContainer } from 'testcontainers';

// Kafka as the jar path runs it (ops/dev/kafka-node.ts), CouchDB as compose.yaml and ops/k8s deploy it.
export const KAFKA_IMAGE = 'apache/kafka:4.1.1';
export const COUCHDB_IMAGE = 'couchdb:3.4.2';

// A socket that exists but never answers must not hold the test run: past this, no engine.
const PROBE_LIMIT_MS = 5_000;
const STARTUP_LIMIT_MS = 180_000;

export type RuntimeProbe =
  | { readonly available: true; readonly host: string; readonly ms: number }
  | { readonly available: false; readonly reason: string; readonly ms: number };

let probe: Promise<RuntimeProbe> | null = null;
let probeRequests = 0;

/** Whether testcontainers finds a container runtime; asked once per process, the answer kept. */
export function probeContainerRuntime(): Promise<RuntimeProbe> {
  probeRequests++;
  probe ??= runProbe();
  return probe;
}

/** How often anything asked for the probe: lets a test check that a path never needed Docker. */
export const containerRuntimeProbeRequests = (): number => probeRequests;

async function runProbe(): Promise<RuntimeProbe> {
  const started = performance.now();
  const ms = () => Math.round(performance.now() - started);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer from a container runtime within ${PROBE_LIMIT_MS} ms`)), PROBE_LIMIT_MS);
  });
  try {
    const client = await Promise.race([runtimeClient(), limit]);
    return { available: true, host: client.info.containerRuntime.host, ms: ms() };
  } catch (error) {
    return { available: false, reason: error instanceof Error ? error.message : String(error), ms: ms() };
  } finally {
    clearTimeout(timer);
  }
}

async function runtimeClient(): Promise<ContainerRuntimeClient> {
  const { getContainerRuntimeClient } = await import('testcontainers');
  return getContainerRuntimeClient();
}

export interface KafkaNode {
  readonly id: number;
  /** The host port its client listener is published on, fixed so that a stopped node comes back on it. */
  readonly hostPort: number;
}

const alias = (id: number) => `kafka-${id}`;

/** The apache/kafka image's settings (KAFKA_* variables) for one node; the broker settings match ops/dev/kafka-node.ts. */
export function kafkaEnvironment(node: KafkaNode, all: readonly KafkaNode[], host: string, clusterId: string): Record<string, string> {
  const replicas = Math.min(all.length, 3);
  const minIsr = Math.min(all.length, 2);
  return {
    CLUSTER_ID: clusterId,
    KAFKA_NODE_ID: String(node.id),
    KAFKA_PROCESS_ROLES: 'broker,controller',
    KAFKA_CONTROLLER_QUORUM_VOTERS: all.map((n) => `${n.id}@${alias(n.id)}:9093`).join(','),
    // HOST is what the tests reach through the published port; the nodes talk among themselves on INTERNAL.
    KAFKA_LISTENERS: 'HOST://:9092,INTERNAL://:19092,CONTROLLER://:9093',
    KAFKA_ADVERTISED_LISTENERS: `HOST://${host}:${node.hostPort},INTERNAL://${alias(node.id)}:19092`,
    KAFKA_LISTENER_SECURITY_PROTOCOL_MAP: 'HOST:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    KAFKA_CONTROLLER_LISTENER_NAMES: 'CONTROLLER',
    KAFKA_INTER_BROKER_LISTENER_NAME: 'INTERNAL',
    KAFKA_AUTO_CREATE_TOPICS_ENABLE: 'false',
    KAFKA_DEFAULT_REPLICATION_FACTOR: String(replicas),
    KAFKA_MIN_INSYNC_REPLICAS: '1',
    KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: String(replicas),
    KAFKA_OFFSETS_TOPIC_NUM_PARTITIONS: '10',
    KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: String(replicas),
    KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: String(minIsr),
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR: String(replicas),
    KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR: String(minIsr),
    KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS: '0',
    KAFKA_GROUP_MIN_SESSION_TIMEOUT_MS: '1000',
    // Combined nodes here, so a crash can take the quorum's leader with it: a crashed broker is fenced after
    // 3 s, not 9. ops/dev and ops/k8s give the quorum controllers of its own and fence after 1 s
    // (docs/cluster.md#when-a-process-dies).
    KAFKA_BROKER_SESSION_TIMEOUT_MS: '3000',
    KAFKA_BROKER_HEARTBEAT_INTERVAL_MS: '500',
    // The followers of a dead broker's partitions come back within 0.1 s (ops/dev/kafka-node.ts).
    KAFKA_REPLICA_FETCH_BACKOFF_MS: '100',
    KAFKA_REPLICA_FETCH_WAIT_MAX_MS: '100',
  };
}

/** A CouchDB admin made up now, so no password lives in the code or outlives the run. */
export function couchAdmin(): { readonly user: string; readonly password: string } {
  return { user: `admin_${randomBytes(4).toString('hex')}`, password: randomBytes(24).toString('base64url') };
}

export interface ContainerServices {
  readonly kafkaBrokers: readonly string[];
  /** With the admin's user and password in it; null when started without CouchDB. */
  readonly couchdbUrl: string | null;
  /** The same actions as ops/dev/services: stop-broker ID [--kill], start-broker ID, restart-couchdb, down. */
  readonly control: (...args: string[]) => Promise<void>;
  down(): Promise<void>;
}

/** Starts `brokers` Kafka nodes (and CouchDB unless told not to); rejects when Docker cannot run them. */
export async function startContainerServices(options: { brokers: number; couchdb: boolean }): Promise<ContainerServices> {
  const tc = await import('testcontainers');
  const client = await tc.getContainerRuntimeClient();
  const host = client.info.containerRuntime.host;
  const network = await new tc.Network().start();
  const ports = await freePorts(options.brokers + 1);
  const nodes: KafkaNode[] = Array.from({ length: options.brokers }, (_, i) => ({ id: i + 1, hostPort: ports[i]! }));
  // Random per run: nodes of one cluster share it, and it stays in their data when a node restarts.
  const clusterId = randomBytes(16).toString('base64url');
  const admin = couchAdmin();
  const started: StartedTestContainer[] = [];
  const kafka = new Map<number, StartedTestContainer>();
  let couch: StartedTestContainer | null = null;
  // Forced removal: testcontainers' own stop() throws on a container that is already stopped (a broker
  // a test stopped and never started again), and nothing here is worth a graceful shutdown.
  const down = async () => {
    await Promise.allSettled(started.map((container) => client.container.getById(container.getId()).remove({ force: true, v: true })));
    await network.stop().catch(() => {});
  };
  try {
    const kafkaStarts = nodes.map(async (node) => {
      // All nodes at once: each waits for a quorum of controllers before it calls itself started.
      const container = await new tc.GenericContainer(KAFKA_IMAGE)
        .withNetwork(network)
        .withNetworkAliases(alias(node.id))
        .withEnvironment(kafkaEnvironment(node, nodes, host, clusterId))
        .withExposedPorts({ container: 9092, host: node.hostPort })
        .withWaitStrategy(tc.Wait.forLogMessage(/Kafka Server started/))
        .withStartupTimeout(STARTUP_LIMIT_MS)
        .start();
      started.push(container);
      kafka.set(node.id, container);
    });
    const couchStart = options.couchdb
      ? new tc.GenericContainer(COUCHDB_IMAGE)
          .withEnvironment({ COUCHDB_USER: admin.user, COUCHDB_PASSWORD: admin.password })
          // single_node creates the system databases, without which CouchDB logs an error a second.
          .withCopyContentToContainer([{ content: '[couchdb]\nsingle_node = true\n', target: '/opt/couchdb/etc/local.d/10-single-node.ini' }])
          .withExposedPorts({ container: 5984, host: ports[options.brokers]! })
          .withWaitStrategy(tc.Wait.forHttp('/_up', 5984).forStatusCode(200))
          .withStartupTimeout(STARTUP_LIMIT_MS)
          .start()
          .then((container) => {
            started.push(container);
            couch = container;
          })
      : Promise.resolve();
    // allSettled first, so that whatever did start is in `started` before a failure brings it down.
    const outcomes = await Promise.allSettled([...kafkaStarts, couchStart]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed) throw failed.reason;
    await waitForKafka(host, nodes, nodes.map((n) => n.id));
  } catch (error) {
    await down();
    throw error;
  }
  const couchdbUrl = options.couchdb ? `http://${admin.user}:${admin.password}@${host}:${ports[options.brokers]}` : null;
  return {
    kafkaBrokers: nodes.map((n) => `${host}:${n.hostPort}`),
    couchdbUrl,
    control: (...args) => control(client, host, nodes, kafka, () => couch, down, args),
    down,
  };
}

async function control(
  client: ContainerRuntimeClient,
  host: string,
  nodes: readonly KafkaNode[],
  kafka: ReadonlyMap<number, StartedTestContainer>,
  couch: () => StartedTestContainer | null,
  down: () => Promise<void>,
  [action, id, ...flags]: string[],
): Promise<void> {
  if (action === 'down') return down();
  if (action === 'restart-couchdb') {
    const container = couch();
    if (!container) throw new Error('restart-couchdb: these services have no CouchDB');
    // Unlike the jar path's in-memory pouchdb-server, a real CouchDB comes back with its data.
    return container.restart({ timeout: 5_000 });
  }
  const node = nodes.find((n) => String(n.id) === id);
  const container = node && kafka.get(node.id);
  if (!node || !container) throw new Error(`no broker '${id}'; ids are ${nodes.map((n) => n.id).join(', ')}`);
  const handle = client.container.getById(container.getId());
  const running = async () => (await client.container.inspect(handle)).State.Running;
  switch (action) {
    case 'stop-broker':
      if (!(await running())) return;
      // As in ops/dev/services: SIGTERM is a controlled shutdown (leadership moves first), --kill a crash.
      // (testcontainers' timeouts are in ms.)
      if (flags.includes('--kill')) await handle.kill({ signal: 'SIGKILL' });
      else await client.container.stop(handle, { timeout: 30_000 });
      return;
    case 'start-broker':
      // Like the jar path, starting a running node is no error; its fixed port binding comes back with it.
      if (!(await running())) await client.container.start(handle);
      return waitForKafka(host, [node], [node.id]);
    default:
      throw new Error(`unknown action '${action}': stop-broker ID [--kill] | start-broker ID | restart-couchdb | down`);
  }
}

/** Resolves once the cluster's metadata, asked through `via`, lists every node in `expect`. */
function waitForKafka(host: string, via: readonly KafkaNode[], expect: readonly number[]): Promise<void> {
  return waitForBrokerIds(via.map((n) => `${host}:${n.hostPort}`), expect);
}

/** Free host ports, all held until every one is chosen so none is handed out twice. (Like the jar path,
 * this assumes the engine publishes on this machine: a remote DOCKER_HOST may have them taken.) */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  for (let i = 0; i < count; i++) {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, done));
    servers.push(server);
  }
  const ports = servers.map((server) => (server.address() as { port: number }).port);
  await Promise.all(servers.map((server) => new Promise((done) => server.close(done))));
  return ports;
}
