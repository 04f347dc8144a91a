// A Kafka broker of a test's own with security on, from the same jars and launcher as ops/dev/services
// (ops/dev/kafka-node.ts: fetchKafka, startNode): one KRaft node whose client listeners take SASL SCRAM
// only, one of them over TLS, with StandardAuthorizer denying whatever no ACL allows. Its SCRAM users are
// written into the metadata log when the storage is formatted (`--add-scram`): a KRaft cluster has no
// other way to know a user before it runs, and kafkajs cannot create SCRAM credentials. The TLS listener's
// certificate is signed by a CA made here with openssl, valid for 127.0.0.1, and given to Kafka as a PEM
// keystore; the CA's PEM file is what a client's --kafka-ca-file names. Where java, mvn or openssl is
// missing: the loud skip of cluster-services.ts (a failure with STRATUS_REQUIRE_CLUSTER=1). Jars only, no
// container path as cluster-services.ts has: the users must be added by the format step run here.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logLevel } from 'kafkajs';
import { alive, CLUSTER_ID, fetchKafka, jarsDir, LOG4J, startNode, type KafkaNode } from '../../ops/dev/kafka-node.ts';
import { createKafkaClient } from '../../src/adapters/transport/kafka/client.ts';
import type { KafkaSecurity, SaslMechanism } from '../../src/adapters/transport/kafka/security.ts';
import { Secret } from '../../src/secret.ts';
import { missingTools, unavailable } from './cluster-services.ts';
import { freePort, runOrThrow } from './process.ts';
import { makeCertificates, opensslMissing } from './test-certificates.ts';
import { waitFor } from './wait.ts';

/** A SCRAM user: its name and password, and the mechanisms it has credentials for (SCRAM stores one per hash). */
export interface ScramUser {
  readonly name: string;
  readonly password: string;
  readonly mechanisms: readonly SaslMechanism[];
}

export interface SecureBroker {
  /** host:port of the SASL_PLAINTEXT listener. */
  readonly saslPlaintext: string;
  /** host:port of the SASL_SSL listener. */
  readonly saslSsl: string;
  /** The PEM file of the CA that signed the broker's certificate. */
  readonly caFile: string;
  /** The super user's security, for setting up ACLs (on the SASL_PLAINTEXT listener). */
  readonly admin: KafkaSecurity;
  down(): Promise<void>;
}

const ADMIN = 'admin';
const toolName = (mechanism: SaslMechanism) => mechanism.toUpperCase();
const JAAS = (user: string, password: string) => `org.apache.kafka.common.security.scram.ScramLoginModule required username="${user}" password="${password}";`;

function properties(node: KafkaNode, sslPort: number, dir: string, adminPassword: string): string {
  const jaas = JAAS(ADMIN, adminPassword);
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': node.id,
    'controller.quorum.voters': `${node.id}@127.0.0.1:${node.controllerPort}`,
    listeners: `SASL_PLAINTEXT://127.0.0.1:${node.port},SASL_SSL://127.0.0.1:${sslPort},CONTROLLER://127.0.0.1:${node.controllerPort}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${node.port},SASL_SSL://127.0.0.1:${sslPort}`,
    // The controller listener stays PLAINTEXT: KRaft cannot check SCRAM there (the credentials live in the
    // metadata the controller serves). Its callers are User:ANONYMOUS, hence a super user below; in a real
    // cluster only the brokers may reach that port (docs/cluster.md).
    'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'SASL_PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-512',
    // Each SASL listener needs a login module per mechanism; the broker logs in to itself as the admin.
    'listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config': jaas,
    'listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config': jaas,
    'listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config': jaas,
    'listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config': jaas,
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': join(dir, 'broker.pem'),
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    'super.users': `User:${ADMIN};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found': false,
    'log.dirs': join(dir, 'data'),
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'group.initial.rebalance.delay.ms': 0,
    'group.min.session.timeout.ms': 1000,
    'num.network.threads': 2,
    'num.io.threads': 4,
  };
  return Object.entries(settings).map(([key, value]) => `${key}=${value}`).join('\n') + '\n';
}

/** The test CA and a broker certificate; Kafka's PEM keystore is the unencrypted PKCS#8 key (what
 * openssl 3 writes) followed by the chain. */
function makeBrokerCertificates(dir: string): void {
  const { cert, key } = makeCertificates(dir, 'broker');
  writeFileSync(join(dir, 'broker.pem'), readFileSync(key, 'utf8') + readFileSync(cert, 'utf8'));
}

/** Starts the broker with `users` (plus the super user) and waits until the super user can describe it;
 * null, after the loud warning, where the tools are missing. */
export async function startSecureBroker(users: readonly ScramUser[]): Promise<SecureBroker | null> {
  const missing = missingTools(process.env) ?? opensslMissing();
  if (missing) return unavailable(missing, process.env);
  fetchKafka();
  const runDir = join(tmpdir(), `stratus-secure-kafka-${process.pid}-${Date.now()}`);
  const node: KafkaNode = { id: 1, roles: 'broker,controller', port: freePort(), controllerPort: freePort(), pid: 0 };
  const sslPort = freePort();
  // startNode reads its files from <runDir>/kafka-<id>.
  const dir = join(runDir, `kafka-${node.id}`);
  mkdirSync(dir, { recursive: true });
  const adminPassword = crypto.randomUUID().replaceAll('-', '');
  makeBrokerCertificates(dir);
  writeFileSync(join(dir, 'server.properties'), properties(node, sslPort, dir, adminPassword));
  writeFileSync(join(dir, 'log4j2.properties'), LOG4J);
  const scram = [{ name: ADMIN, password: adminPassword, mechanisms: ['scram-sha-512'] as const }, ...users].flatMap((user) =>
    user.mechanisms.map((mechanism) => ['--add-scram', `${toolName(mechanism)}=[name=${user.name},password=${user.password}]`]),
  );
  runOrThrow('java', ['-cp', `${jarsDir()}/*`, `-Dlog4j2.configurationFile=${join(dir, 'log4j2.properties')}`, 'kafka.tools.StorageTool', 'format', '-t', CLUSTER_ID, '-c', join(dir, 'server.properties'), ...scram.flat()], 'formatting the secure broker');
  startNode(runDir, node);
  // If this process is killed before its exit handler runs, a watchdog still ends the JVM and its files.
  spawn('bash', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 ${node.pid} 2>/dev/null; rm -rf '${runDir}'`], { detached: true, stdio: 'ignore' }).unref();
  const stop = () => {
    try {
      process.kill(node.pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  };
  process.once('exit', stop);
  const admin: KafkaSecurity = { tls: null, sasl: { mechanism: 'scram-sha-512', username: ADMIN, password: new Secret(adminPassword) } };
  const saslPlaintext = `127.0.0.1:${node.port}`;
  try {
    await untilDescribed(saslPlaintext, admin, node.pid, join(dir, 'server.log'));
  } catch (error) {
    stop();
    throw error;
  }
  return {
    saslPlaintext,
    saslSsl: `127.0.0.1:${sslPort}`,
    caFile: join(dir, 'ca.pem'),
    admin,
    async down() {
      stop();
      await waitFor(() => !alive(node.pid), 10_000, 20);
      rmSync(runDir, { recursive: true, force: true });
    },
  };
}

async function untilDescribed(address: string, security: KafkaSecurity, pid: number, logFile: string, timeoutMs = 90_000): Promise<void> {
  const kafka = createKafkaClient({ clientId: 'stratus-secure-broker', brokers: [address], security, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
  let last = 'no answer';
  const answers = async () => {
    if (!alive(pid)) {
      const log = existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n') : '(no log)';
      throw new Error(`the secure broker exited while starting:\n${log}`);
    }
    const admin = kafka.admin();
    try {
      await admin.connect();
      await admin.describeCluster();
      return true;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
      return false;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  };
  try {
    await waitFor(answers, timeoutMs, 200);
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('the secure broker exited')) throw error;
    throw new Error(`the secure broker did not answer within ${timeoutMs} ms: ${last}`);
  }
}
