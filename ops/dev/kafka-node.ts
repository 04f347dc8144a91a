// Apache Kafka for development and tests: the broker jars from Maven Central (fetched once into a cache),
// and KRaft nodes, one JVM each, on loopback ports: a node is a broker, a controller (a voter in the
// metadata quorum), or both.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
// Before any connection: without it, kafkajs's idle request queue schedules negative timeouts, and Bun
// prints a TimeoutNegativeWarning each time this script waits for the brokers.
import '../../src/adapters/transport/kafka/kafkajs-request-queue.ts';

export const KAFKA_VERSION = process.env.STRATUS_KAFKA_VERSION ?? '4.1.1';
// Any fixed id works; KRaft wants 16 bytes in URL-safe base64. Fixed so a broker restarted later rejoins.
export const CLUSTER_ID = 'c3RyYXR1cy1kZXYtY2x1cw';
// C1 only and the serial collector: the JVM starts faster and leaves the 2 shared cores to the tests.
const JVM_OPTS = (process.env.STRATUS_KAFKA_JVM_OPTS ?? '-Xms128m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1').split(/\s+/).filter(Boolean);

/**
 * How the cluster takes the crash of one broker; ops/k8s sets the same (test/ops/manifests.test.ts holds
 * them equal), and docs/cluster.md has the figures. The controllers fence a broker after 1 s without a
 * heartbeat instead of 9 (the brokers heartbeat every 250 ms): until then every write waits for it
 * (acks=all, and it is in every in-sync set) and the groups it coordinates stall. After the fence, a
 * partition it led has a new leader, which acknowledges a write only once the other follower has fetched
 * it; measured, that follower sometimes came a second late, when its fetch during the move had failed
 * (it then waits `replica.fetch.backoff.ms`, 1 s by default), or half a second late, when it took the
 * partition on only after its long poll of the new leader (`replica.fetch.wait.max.ms`, 500 ms) ended.
 */
export const BROKER_LOSS_SETTINGS = Object.freeze({
  'broker.session.timeout.ms': 1000,
  'broker.heartbeat.interval.ms': 250,
  'replica.fetch.backoff.ms': 100,
  'replica.fetch.wait.max.ms': 100,
});

export type NodeRoles = 'broker,controller' | 'broker' | 'controller';

export interface KafkaNode {
  readonly id: number;
  readonly roles: NodeRoles;
  /** The client listener's port; 0 on a controller alone. */
  readonly port: number;
  /** The controller listener's port; 0 on a broker alone. */
  readonly controllerPort: number;
  pid: number;
}

export const isBroker = (node: KafkaNode) => node.roles !== 'controller';
export const isController = (node: KafkaNode) => node.roles !== 'broker';

const log = (line: string) => process.stderr.write(`services: ${line}\n`);

export function jarsDir(): string {
  const cache = process.env.STRATUS_KAFKA_CACHE ?? join(homedir(), '.cache', 'stratus-kafka');
  return join(cache, KAFKA_VERSION, 'jars');
}

/** Downloads kafka_2.13 and its runtime dependencies with Maven unless the cache already has them. */
export function fetchKafka(): string {
  const jars = jarsDir();
  const done = join(jars, '.complete');
  if (existsSync(done)) return jars;
  if (spawnSync('java', ['-version'], { stdio: 'ignore' }).status !== 0) throw new Error('java is not installed (Kafka needs Java 17+)');
  const work = join(jars, '..', 'fetch');
  mkdirSync(work, { recursive: true });
  // log4j-slf4j-impl: Kafka logs through slf4j 1.x, which without a binding would drop every line.
  writeFileSync(
    join(work, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
  <groupId>stratus.dev</groupId><artifactId>kafka-fetch</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>2.24.3</version></dependency>
  </dependencies>
</project>
`,
  );
  log(`fetching Apache Kafka ${KAFKA_VERSION} with Maven into ${jars}`);
  rmSync(jars, { recursive: true, force: true });
  const mvn = spawnSync('mvn', ['-q', '-B', '-f', join(work, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${jars}`, '-DincludeScope=runtime'], {
    stdio: ['ignore', 2, 2],
  });
  if (mvn.status !== 0) throw new Error(`mvn could not fetch org.apache.kafka:kafka_2.13:${KAFKA_VERSION} (exit ${mvn.status})`);
  if (!readdirSync(jars).some((name) => name.startsWith('kafka_2.13-'))) throw new Error(`no kafka_2.13 jar in ${jars}`);
  writeFileSync(done, `${new Date().toISOString()}\n`);
  return jars;
}

/** The listeners of a node's roles, and the broker-side ones only where it is a broker. */
function listenerSettings(node: KafkaNode): Record<string, string> {
  const listeners = [isBroker(node) && `PLAINTEXT://127.0.0.1:${node.port}`, isController(node) && `CONTROLLER://127.0.0.1:${node.controllerPort}`].filter(Boolean);
  const settings: Record<string, string> = { listeners: listeners.join(','), 'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT', 'controller.listener.names': 'CONTROLLER' };
  if (!isBroker(node)) return settings;
  return { ...settings, 'advertised.listeners': `PLAINTEXT://127.0.0.1:${node.port}`, 'inter.broker.listener.name': 'PLAINTEXT' };
}

function properties(node: KafkaNode, all: readonly KafkaNode[], dataDir: string): string {
  const n = all.filter(isBroker).length;
  const replicas = Math.min(n, 3);
  const settings: Record<string, string | number | boolean> = {
    'process.roles': node.roles,
    'node.id': node.id,
    'controller.quorum.voters': all.filter(isController).map((b) => `${b.id}@127.0.0.1:${b.controllerPort}`).join(','),
    ...listenerSettings(node),
    'log.dirs': dataDir,
    // The transport creates its topics itself, with the partitions and replication it is configured for.
    'auto.create.topics.enable': false,
    'default.replication.factor': replicas,
    // Per topic (the transport sets 2 when it replicates 3 ways); the broker default stays permissive.
    'min.insync.replicas': 1,
    'offsets.topic.replication.factor': replicas,
    // 50 partitions by default: fewer make the first consumer group on a fresh cluster ready sooner.
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': Math.min(n, 2),
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': Math.min(n, 2),
    // Tests join and leave groups all the time; no reason to wait for more members.
    'group.initial.rebalance.delay.ms': 0,
    // Lets fault tests use short session timeouts so a dead member is noticed within seconds.
    'group.min.session.timeout.ms': 1000,
    ...BROKER_LOSS_SETTINGS,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  return Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
}

function nodeDir(runDir: string, id: number): string {
  return join(runDir, `kafka-${id}`);
}

/** Writes server.properties and formats the storage of every node (a fresh cluster). */
export function formatCluster(runDir: string, nodes: readonly KafkaNode[]): void {
  const jars = jarsDir();
  for (const node of nodes) {
    const dir = nodeDir(runDir, node.id);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'server.properties'), properties(node, nodes, join(dir, 'data')));
    writeFileSync(join(dir, 'log4j2.properties'), LOG4J);
    const format = spawnSync('java', ['-cp', `${jars}/*`, `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', join(dir, 'server.properties'), '--ignore-formatted'], {
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
    });
    if (format.status !== 0) throw new Error(`formatting kafka-${node.id} failed: ${format.stderr || format.stdout}`);
  }
}

// Warnings and errors only, into the node's log file (its stdout): INFO is thousands of lines per test run. Two
// classes say more: the server's start, and the quorum's changes of state (quorumLeader reads them).
export const LOG4J = `rootLogger.level = WARN
rootLogger.appenderRef.out.ref = OUT
appender.out.type = Console
appender.out.name = OUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
logger.kafka.name = kafka.server.KafkaRaftServer
logger.kafka.level = INFO
logger.quorum.name = org.apache.kafka.raft.QuorumState
logger.quorum.level = INFO
`;

/** Starts one node's JVM in the background; it outlives this script. */
export function startNode(runDir: string, node: KafkaNode): void {
  const dir = nodeDir(runDir, node.id);
  const out = openSync(join(dir, 'server.log'), 'a');
  const child = spawn(
    'java',
    [...JVM_OPTS, '-Djava.awt.headless=true', `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, '-cp', `${jarsDir()}/*`, 'kafka.Kafka', join(dir, 'server.properties')],
    { detached: true, stdio: ['ignore', out, out] },
  );
  child.unref();
  if (child.pid === undefined) throw new Error(`could not start kafka-${node.id}`);
  node.pid = child.pid;
}

/** Resolves once the cluster's metadata, asked through `via`, lists every node in `expect`. */
export function waitForBrokers(via: readonly KafkaNode[], expect: readonly number[], timeoutMs = 60_000): Promise<void> {
  return waitForBrokerIds(via.map((b) => `127.0.0.1:${b.port}`), expect, timeoutMs);
}

/** The same through any addresses (host:port), for brokers this script did not start (containers). */
export async function waitForBrokerIds(addresses: readonly string[], expect: readonly number[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const kafka = new Kafka({ clientId: 'stratus-services', brokers: [...addresses], logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  let last = 'no answer';
  while (Date.now() < deadline) {
    const admin = kafka.admin();
    try {
      await admin.connect();
      const { brokers } = await admin.describeCluster();
      const seen = new Set(brokers.map((b) => b.nodeId));
      if (expect.every((id) => seen.has(id))) return;
      last = `brokers ${[...seen].join(',')} of ${expect.join(',')}`;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    } finally {
      await admin.disconnect().catch(() => {});
    }
    await Bun.sleep(200);
  }
  throw new Error(`kafka not ready within ${timeoutMs} ms: ${last}`);
}

/** Resolves once something accepts TCP connections on the loopback `port` (a controller alone answers no
 * client request to wait on). */
export async function waitForListener(port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const open = await new Promise<boolean>((done) => {
      const socket = connect(port, '127.0.0.1', () => (socket.destroy(), done(true)));
      socket.once('error', () => done(false));
    });
    if (open) return;
    await Bun.sleep(200);
  }
  throw new Error(`nothing listening on 127.0.0.1:${port} within ${timeoutMs} ms`);
}

/** Which of `controllers` leads the metadata quorum now: the one whose latest change of state (its log, at
 * INFO for this one class) made it leader in the highest epoch. Kafka's own answer (the DescribeQuorum
 * request) needs its admin tools, which the broker jars here do not include. */
export function quorumLeader(runDir: string, controllers: readonly KafkaNode[]): KafkaNode {
  let leader: { node: KafkaNode; epoch: number } | undefined;
  for (const node of controllers) {
    const log = readFileSync(join(nodeDir(runDir, node.id), 'server.log'), 'utf8');
    const last = log.split('\n').findLast((line) => line.includes('Completed transition to '));
    const epoch = Number(/Completed transition to Leader\(.*?, epoch=(\d+)/.exec(last ?? '')?.[1] ?? -1);
    if (epoch >= 0 && (!leader || epoch > leader.epoch)) leader = { node, epoch };
  }
  if (!leader) throw new Error(`no leader among controllers ${controllers.map((node) => node.id).join(', ')} yet`);
  return leader.node;
}

/** Whether a process still runs (signal 0 only checks). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
