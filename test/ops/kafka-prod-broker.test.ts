// The prod overlay's Kafka security, run: a controller and a broker, each started by the overlay's own
// kafka-start.sh from its StatefulSet's rendered environment, users and ACLs set by the kafka-acls Job's
// own script, and the roles connecting with their rendered Kafka settings. What stands in for Kubernetes and the image:
// - the environment is resolved as the kubelet does (fieldRefs, Secrets, then $(VAR) in order), with test
//   values for the Secrets and the pod's name; then the parts that name the host are moved to loopback
//   (listener addresses, the quorum, data, keystore and scratch paths) and replication set for one broker, and
//   nothing else: every security setting is the rendered one;
// - the image's /etc/kafka/docker/run turns KAFKA_* into server.properties (kafka.docker.KafkaDockerWrapper,
//   Kafka 3.9: "KAFKA_" removed, lower case, "_" to ".", "..." to "-", ".." to "_"); imageProperties() here
//   does the same, and its result must equal what kafka-start.sh wrote for its format step;
// - kafka-storage.sh, kafka-configs.sh and kafka-acls.sh are the same classes run from the Maven jars of
//   ops/dev/kafka-node.ts (Kafka 4.1.1, where the image has 3.9.1; kafka-acls.sh's class lives in
//   kafka-tools, fetched beside them), and the certificate names 127.0.0.1, not the cluster's names.
// One broker, so the brokers' login to each other (inter-broker SASL_SSL as admin, checked against
// stratus-kafka-ca) is configured here but never used. Where kubectl, java, mvn or openssl is missing:
// the loud skip of the cluster tests (a failure with STRATUS_REQUIRE_CLUSTER=1).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { logLevel } from 'kafkajs';
import { alive, fetchKafka, jarsDir, KAFKA_VERSION, LOG4J } from '../../ops/dev/kafka-node.ts';
import { createKafkaClient } from '../../src/adapters/transport/kafka/client.ts';
import type { KafkaTransport } from '../../src/adapters/transport/kafka/kafka-transport.ts';
import type { KafkaSecurity } from '../../src/adapters/transport/kafka/security.ts';
import { createTransport } from '../../src/adapters/transport/registry.ts';
import { parseCli, type Config } from '../../src/config.ts';
import { GROUP, TOPIC } from '../../src/protocol/topics.ts';
import { Secret } from '../../src/secret.ts';
import { missingTools, unavailable } from '../helpers/cluster-services.ts';
import { KUSTOMIZE, renderOverlay, type Manifest } from '../helpers/kustomize.ts';
import { freePort } from '../helpers/process.ts';
import { makeCertificates, opensslMissing } from '../helpers/test-certificates.ts';
import { waitFor } from '../helpers/wait.ts';

type EnvEntry = { name: string; value?: string; valueFrom?: any };

const JVM = '-Xms64m -Xmx512m -XX:+UseSerialGC -XX:TieredStopAtLevel=1';

/** The variables kafka.docker.KafkaDockerWrapper leaves out of server.properties. */
const NOT_PROPERTIES = new Set(['KAFKA_VERSION', 'KAFKA_HEAP_OPTS', 'KAFKA_LOG4J_OPTS', 'KAFKA_OPTS', 'KAFKA_JMX_OPTS', 'KAFKA_JVM_PERFORMANCE_OPTS', 'KAFKA_GC_LOG_OPTS', 'KAFKA_LOG4J_ROOT_LOGLEVEL', 'KAFKA_LOG4J_LOGGERS', 'KAFKA_TOOLS_LOG4J_LOGLEVEL', 'KAFKA_JMX_HOSTNAME']);

/** server.properties as the apache/kafka image writes it from an environment (Scala's String.replace
 * replaces every occurrence, hence replaceAll). */
function imageProperties(env: Record<string, string>): Map<string, string> {
  const properties = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('KAFKA_') || NOT_PROPERTIES.has(name)) continue;
    const key = name.replaceAll('KAFKA_', '').toLowerCase().replaceAll('_', '.').replaceAll('...', '-').replaceAll('..', '_');
    properties.set(key, value);
  }
  return properties;
}

/** A container's environment as the kubelet makes it: values, fieldRefs and Secret keys from `sources`,
 * and $(VAR) expanded from the variables defined above. */
function podEnv(entries: readonly EnvEntry[], sources: { fields: Record<string, string>; secrets: Record<string, string> }): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of entries) {
    let value: string;
    if (entry.value !== undefined) value = entry.value.replace(/\$\(([A-Za-z0-9_]+)\)/g, (whole, name: string) => env[name] ?? whole);
    else if (entry.valueFrom?.fieldRef) value = sources.fields[entry.valueFrom.fieldRef.fieldPath] ?? fail(`no test value for field ${entry.valueFrom.fieldRef.fieldPath}`);
    else if (entry.valueFrom?.secretKeyRef) {
      const ref = entry.valueFrom.secretKeyRef;
      value = sources.secrets[`${ref.name}/${ref.key}`] ?? fail(`no test value for Secret ${ref.name} key ${ref.key}`);
    } else fail(`${entry.name}: no value this test can make`);
    env[entry.name] = value;
  }
  return env;
}

function fail(message: string): never {
  throw new Error(message);
}

/** A script of the overlay with the paths it uses in the container moved to this test's; each must occur. */
function relocated(script: string, paths: Record<string, string>): string {
  for (const [from, to] of Object.entries(paths)) {
    if (!script.includes(from)) throw new Error(`the script no longer mentions ${from}: update this test`);
    script = script.replaceAll(from, to);
  }
  return script;
}

/** kafka-tools (AclCommand) beside the jars of fetchKafka(), fetched with Maven once. */
function fetchKafkaTools(): string {
  const dir = join(jarsDir(), '..', 'tools');
  if (existsSync(join(dir, '.complete'))) return dir;
  mkdirSync(dir, { recursive: true });
  const mvn = spawnSync('mvn', ['-q', '-B', 'dependency:copy', `-Dartifact=org.apache.kafka:kafka-tools:${KAFKA_VERSION}`, `-DoutputDirectory=${dir}`], { cwd: dir, stdio: ['ignore', 2, 2] });
  if (mvn.status !== 0) throw new Error(`mvn could not fetch org.apache.kafka:kafka-tools:${KAFKA_VERSION}`);
  writeFileSync(join(dir, '.complete'), `${new Date().toISOString()}\n`);
  return dir;
}

const missing = KUSTOMIZE === null ? 'kubectl or kustomize not installed' : (missingTools(process.env) ?? opensslMissing());
// unavailable(): the loud warning, or with STRATUS_REQUIRE_CLUSTER=1 the failure.
const ready = missing === null || (unavailable(missing, process.env) ?? false);

const password = () => crypto.randomUUID().replaceAll('-', '');
const USERS = { admin: password(), gateway: password(), consumer: password(), trainer: password(), keda: password() };
const bytes = (value: string) => new TextEncoder().encode(value);
const text = (value: Uint8Array) => new TextDecoder().decode(value);

describe.skipIf(!ready)('prod Kafka, run from its rendered manifests', () => {
  const dir = join(tmpdir(), `stratus-prod-kafka-${process.pid}-${Date.now()}`);
  const port = freePort();
  const controllerPort = freePort();
  const address = `127.0.0.1:${port}`;
  let manifests: Manifest[];
  let pid = 0;
  let controllerPid = 0;
  let ca: string;
  const opened: KafkaTransport[] = [];

  const tail = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'utf8').split('\n').slice(-30).join('\n') : '(no log)');
  const log = () => `broker:\n${tail('kafka.log')}\ncontroller:\n${tail('controller.log')}`;
  const stop = () => {
    for (const started of [pid, controllerPid]) {
      try {
        if (started) process.kill(started, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  };
  /** bash with only `env` (and PATH): the test's own KAFKA_* variables must not become properties. */
  const bash = (script: string, env: Record<string, string>, output: 'pipe' | number = 'pipe') =>
    spawn('bash', [script], { env: { PATH: process.env.PATH!, HOME: dir, ...env }, stdio: ['ignore', output, output], detached: output !== 'pipe' });

  beforeAll(async () => {
    manifests = await renderOverlay('prod');
    const jars = fetchKafka();
    const tools = fetchKafkaTools();
    for (const sub of ['bin', 'kafka-tls', 'secrets', 'data', 'users', 'controller-data', 'controller-scratch']) mkdirSync(join(dir, sub), { recursive: true });
    spawn('bash', ['-c', `while kill -0 ${process.pid} 2>/dev/null; do sleep 1; done; kill -9 $(cat '${dir}/pid' 2>/dev/null) 2>/dev/null; rm -rf '${dir}'`], { detached: true, stdio: 'ignore' }).unref();
    process.once('exit', stop);

    // The Secrets: the brokers' certificate (PKCS#8 key, as openssl 3 writes it) and its CA.
    const certs = makeCertificates(dir, 'broker');
    ca = certs.ca;
    copyFileSync(certs.cert, join(dir, 'kafka-tls', 'tls.crt'));
    copyFileSync(certs.key, join(dir, 'kafka-tls', 'tls.key'));
    writeFileSync(join(dir, 'log4j2.properties'), LOG4J);
    const java = (main: string, classpath: string, args = '"$@"') =>
      `exec java ${JVM} -Dlog4j2.configurationFile=${dir}/log4j2.properties -cp "${classpath}" ${main} ${args}`;
    const shims: Record<string, string> = {
      // Keeps a copy of the properties kafka-start.sh formats with, which it deletes afterwards.
      'kafka-storage.sh': `prev=\nfor arg in "$@"; do [[ $prev == --config ]] && cp "$arg" '${dir}/format.properties'; prev=$arg; done\n${java('kafka.tools.StorageTool', `${jars}/*`)}`,
      // The image's run: server.properties from the environment (written by this test), then the node.
      run: java('kafka.Kafka', `${jars}/*`, `'${dir}/server.properties'`),
      'run-controller': java('kafka.Kafka', `${jars}/*`, `'${dir}/controller.properties'`),
      'kafka-configs.sh': java('kafka.admin.ConfigCommand', `${jars}/*`),
      'kafka-acls.sh': java('org.apache.kafka.tools.AclCommand', `${jars}/*:${tools}/*`),
    };
    for (const [name, body] of Object.entries(shims)) {
      writeFileSync(join(dir, 'bin', name), `#!/bin/bash\n${body}\n`);
      chmodSync(join(dir, 'bin', name), 0o755);
    }
  }, 300_000);

  afterAll(async () => {
    await Promise.all(opened.map((t) => t.close()));
    stop();
    await waitFor(() => [pid, controllerPid].every((started) => !started || !alive(started)), 10_000, 20).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });

  const kafkaContainer = (name = 'kafka') => manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === name)!.spec.template.spec.containers[0];
  const configMap = (name: string) => manifests.find((m) => m.kind === 'ConfigMap' && (m.metadata.name === name || m.metadata.name.startsWith(`${name}-`)))!.data!;

  /** The environment of StatefulSet `name`'s container, rendered and resolved as the kubelet would for a
   * pod with these `fields`, with `moved(env)`'s settings in place of the ones it names, each of which
   * must be there to move. */
  function relocatedEnvironment(name: string, fields: Record<string, string>, moved: (env: Record<string, string>) => Record<string, string>): Record<string, string> {
    const env = podEnv(kafkaContainer(name).env, { fields, secrets: { 'stratus-kafka-admin/password': USERS.admin } });
    const loopback = moved(env);
    for (const setting of Object.keys(loopback)) if (!(setting in env)) throw new Error(`${setting} is gone from the ${name} container: update this test`);
    return { ...env, ...loopback };
  }

  /** The broker's environment: rendered, resolved, and moved to loopback. */
  const brokerEnvironment = () =>
    relocatedEnvironment('kafka', { "metadata.labels['apps.kubernetes.io/pod-index']": '0', 'metadata.name': 'kafka-0', 'metadata.namespace': 'stratus' }, (env) => ({
      KAFKA_LISTENERS: env.KAFKA_LISTENERS!.replace(/:\/\/[^,]*:9092/, `://127.0.0.1:${port}`),
      KAFKA_ADVERTISED_LISTENERS: env.KAFKA_ADVERTISED_LISTENERS!.replace(/:\/\/[^,]*:9092/, `://${address}`),
      KAFKA_CONTROLLER_QUORUM_VOTERS: `100@127.0.0.1:${controllerPort}`,
      KAFKA_LOG_DIRS: join(dir, 'data'),
      KAFKA_SSL_KEYSTORE_LOCATION: join(dir, 'secrets', 'keystore.pem'),
      KAFKA_SSL_TRUSTSTORE_LOCATION: ca,
      // One broker (as overlays/dev/single-broker.yaml).
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
      KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR: '1',
      KAFKA_TRANSACTION_STATE_LOG_MIN_ISR: '1',
    }));

  /** The controller's environment (the first of the quorum, a quorum of one here), the same way. */
  const controllerEnvironment = () =>
    relocatedEnvironment('kafka-controller', { "metadata.labels['apps.kubernetes.io/pod-index']": '100' }, (env) => ({
      KAFKA_LISTENERS: env.KAFKA_LISTENERS!.replace(/:\/\/[^,]*:9093/, `://127.0.0.1:${controllerPort}`),
      KAFKA_CONTROLLER_QUORUM_VOTERS: `100@127.0.0.1:${controllerPort}`,
      KAFKA_LOG_DIRS: join(dir, 'controller-data'),
      STRATUS_KAFKA_SCRATCH: join(dir, 'controller-scratch'),
      KAFKA_DEFAULT_REPLICATION_FACTOR: '1',
      KAFKA_MIN_INSYNC_REPLICAS: '1',
    }));

  /** kafka-start.sh as the overlay ships it, with its container paths moved here and the image's run
   * replaced by `run`, started detached with its output in `logName`; resolves to its pid. */
  function startWithKafkaStart(env: Record<string, string>, run: string, logName: string): number {
    const script = join(dir, `kafka-start-${run}.sh`);
    writeFileSync(
      script,
      relocated(configMap('kafka-start')['kafka-start.sh']!, {
        '/var/run/secrets/kafka-tls': join(dir, 'kafka-tls'),
        '/opt/kafka/bin/kafka-storage.sh': join(dir, 'bin', 'kafka-storage.sh'),
        '/__cacert_entrypoint.sh': join(dir, 'bin', 'no-such-entrypoint'),
        '/etc/kafka/docker/run': join(dir, 'bin', run),
      }),
    );
    const proc = bash(script, env, openSync(join(dir, logName), 'a'));
    proc.unref();
    return proc.pid!;
  }

  test('kafka-start.sh refuses a key that is not PKCS#8, saying why, before formatting anything', async () => {
    const traditional = join(dir, 'pkcs1');
    mkdirSync(traditional, { recursive: true });
    copyFileSync(join(dir, 'kafka-tls', 'tls.crt'), join(traditional, 'tls.crt'));
    const converted = spawnSync('openssl', ['pkey', '-in', join(dir, 'kafka-tls', 'tls.key'), '-traditional', '-out', join(traditional, 'tls.key')]);
    expect(converted.status).toBe(0);
    const script = join(dir, 'start-pkcs1.sh');
    writeFileSync(script, relocated(configMap('kafka-start')['kafka-start.sh']!, { '/var/run/secrets/kafka-tls': traditional, '/opt/kafka/bin/kafka-storage.sh': join(dir, 'bin', 'not-called') }));
    const proc = bash(script, brokerEnvironment());
    const stderr: string[] = [];
    proc.stderr!.on('data', (chunk) => stderr.push(String(chunk)));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.join('')).toContain('is not an unencrypted PKCS#8 key');
    expect(existsSync(join(dir, 'secrets', 'keystore.pem'))).toBe(false);
  });

  test('kafka-start.sh formats the controller with the admin user and hands over; the broker answers the admin over SASL_SSL', async () => {
    const properties = (env: Record<string, string>) => [...imageProperties(env)].map(([key, value]) => `${key}=${value}`);
    const controllerEnv = controllerEnvironment();
    writeFileSync(join(dir, 'controller.properties'), properties(controllerEnv).join('\n') + '\n');
    controllerPid = startWithKafkaStart(controllerEnv, 'run-controller', 'controller.log');
    writeFileSync(join(dir, 'pid'), String(controllerPid));
    // The controller formats first (the broker's format overwrites this copy of its properties).
    await waitFor(() => existsSync(join(dir, 'format.properties')), 60_000, 50);
    expect(readFileSync(join(dir, 'format.properties'), 'utf8').trim().split('\n').sort()).toEqual(properties(controllerEnv).sort());
    await waitFor(() => existsSync(join(dir, 'controller-data', 'meta.properties')), 60_000, 50);
    const brokerEnv = brokerEnvironment();
    writeFileSync(join(dir, 'server.properties'), properties(brokerEnv).join('\n') + '\n');
    pid = startWithKafkaStart(brokerEnv, 'run', 'kafka.log');
    writeFileSync(join(dir, 'pid'), `${controllerPid} ${pid}`);
    const admin: KafkaSecurity = { tls: { ca: readFileSync(ca, 'utf8') }, sasl: { mechanism: 'scram-sha-512', username: 'admin', password: new Secret(USERS.admin) } };
    const kafka = createKafkaClient({ clientId: 'stratus-prod-kafka-test', brokers: [address], security: admin, logLevel: logLevel.NOTHING, retry: { retries: 0 } });
    let last = 'no answer';
    await waitFor(async () => {
      if (!alive(pid) || !alive(controllerPid)) throw new Error(`the broker or the controller exited while starting:\n${log()}`);
      const client = kafka.admin();
      try {
        await client.connect();
        return (await client.describeCluster()).brokers.length === 1;
      } catch (error) {
        last = String(error);
        return false;
      } finally {
        await client.disconnect().catch(() => {});
      }
    }, 120_000, 250).catch((error) => {
      throw new Error(`${error}: ${last}\n${log()}`);
    });
    // What the script formatted with is what the image would write from the same environment.
    const formatted = readFileSync(join(dir, 'format.properties'), 'utf8').trim().split('\n').sort();
    expect(formatted).toEqual(properties(brokerEnv).sort());
    expect([join(dir, 'secrets', 'format.properties'), join(dir, 'controller-scratch', 'format.properties')].filter(existsSync)).toEqual([]);
  }, 150_000);

  test("the kafka-acls Job's script sets every user's password and ACLs, as admin", async () => {
    expect(pid).not.toBe(0);
    // The Secrets, laid out as the Job's projected volume lays them out.
    const volume = manifests.find((m) => m.kind === 'Job' && m.metadata.name === 'kafka-acls')!.spec.template.spec.volumes.find((v: any) => v.name === 'users');
    for (const source of volume.projected.sources) {
      const user = source.secret.name.replace('stratus-kafka-', '') as keyof typeof USERS;
      for (const item of source.secret.items) {
        mkdirSync(dirname(join(dir, 'users', item.path)), { recursive: true });
        writeFileSync(join(dir, 'users', item.path), item.key === 'password' ? USERS[user] : `stratus-${user}`);
      }
    }
    const script = join(dir, 'kafka-acls.sh');
    writeFileSync(
      script,
      relocated(configMap('kafka-acls')['kafka-acls.sh']!, {
        '/opt/kafka/bin': join(dir, 'bin'),
        '/var/run/secrets/kafka-users': join(dir, 'users'),
        '/var/run/secrets/kafka-ca/ca.crt': ca,
        '/tmp/admin.properties': join(dir, 'admin.properties'),
      }),
    );
    const proc = bash(script, { BOOTSTRAP: address });
    const out: string[] = [];
    proc.stdout!.on('data', (chunk) => out.push(String(chunk)));
    proc.stderr!.on('data', (chunk) => out.push(String(chunk)));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect({ code, tail: code === 0 ? '' : out.join('').slice(-3000) }).toEqual({ code: 0, tail: '' });
    expect(out.join('')).toContain('kafka-acls: users and ACLs in place');
  }, 240_000);

  /** A role's configuration: its rendered STRATUS_KAFKA_* settings, with the test's CA and user. */
  function roleConfig(kind: string, name: string, role: 'gateway' | 'consumer' | 'trainer'): Config {
    const container = manifests.find((m) => m.kind === kind && m.metadata.name === name)!.spec.template.spec.containers[0];
    const entries = (container.env as EnvEntry[]).filter((e) => e.name.startsWith('STRATUS_KAFKA_'));
    // Consumers join their group as the static member named after their pod.
    const staticMember = role === 'consumer' ? ['STRATUS_KAFKA_GROUP_INSTANCE_ID'] : [];
    expect(entries.map((e) => e.name).sort()).toEqual(['STRATUS_KAFKA_CA_FILE', ...staticMember, 'STRATUS_KAFKA_SASL_PASSWORD', 'STRATUS_KAFKA_SASL_USERNAME', 'STRATUS_KAFKA_SSL']);
    const env = podEnv(entries, { fields: { 'metadata.name': `${name}-7d9f-x2x4q` }, secrets: { [`stratus-kafka-${role}/username`]: `stratus-${role}`, [`stratus-kafka-${role}/password`]: USERS[role] } });
    expect(env.STRATUS_KAFKA_CA_FILE).toBe('/var/run/secrets/stratus/kafka-ca/ca.crt');
    env.STRATUS_KAFKA_CA_FILE = ca;
    const action = parseCli(['--role', role, '--transport', 'kafka', '--kafka-brokers', address, '--kafka-replication', '1', '--kafka-partitions', '2', '--kafka-client-id', `prod-${role}`], env);
    if (action.kind !== 'run') throw new Error(`expected a run, got ${action.kind}`);
    expect(action.config.kafkaGroupInstanceId).toBe(role === 'consumer' ? `${name}-7d9f-x2x4q` : null);
    return action.config;
  }
  const open = async (config: Config) => {
    const transport = (await createTransport('kafka', config)) as KafkaTransport;
    opened.push(transport);
    await transport.start();
    return transport;
  };

  test('the roles, with their prod settings: a request and its reply, a model update from the trainer', async () => {
    expect(pid).not.toBe(0);
    const [gateway, consumer, trainer] = await Promise.all([
      open(roleConfig('Deployment', 'stratus-gateway', 'gateway')),
      open(roleConfig('Deployment', 'stratus-consumer', 'consumer')),
      open(roleConfig('Job', 'stratus-trainer', 'trainer')),
    ]);
    await consumer.subscribe(TOPIC.predictions, { group: GROUP.consumers, concurrency: 4 }, async (request) => {
      await consumer.reply(request, { value: bytes(`7 for ${text(request.value)}`) });
    });
    const updates: string[] = [];
    await consumer.subscribe(TOPIC.modelUpdated, { group: GROUP.consumerModelUpdates('prod-test'), concurrency: 1 }, async (m) => void updates.push(text(m.value)));
    const reply = await gateway.request(TOPIC.predictions, { key: 'r1', value: bytes('pixels') }, 60_000);
    expect(text(reply.value)).toBe('7 for pixels');
    await trainer.publish(TOPIC.modelUpdated, { key: 'serving', value: bytes('v2 from the trainer') });
    await waitFor(() => updates.includes('v2 from the trainer'), 60_000, 20);
    expect([gateway, consumer, trainer].map((t) => t.problem())).toEqual([null, null, null]);
  }, 120_000);

  test("the authorizer refuses what no ACL allows: the consumer's user may not announce a model", async () => {
    expect(pid).not.toBe(0);
    const { kafkaTls, kafkaSasl } = roleConfig('Deployment', 'stratus-consumer', 'consumer');
    const producer = createKafkaClient({ brokers: [address], security: { tls: kafkaTls, sasl: kafkaSasl }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: TOPIC.modelUpdated, messages: [{ key: 'serving', value: 'forged' }] })).rejects.toThrow(/authoriz/i);
    } finally {
      await producer.disconnect();
    }
  }, 60_000);

  test("KEDA's user reads the consumers' committed offsets and the topic's end offsets, and may not write", async () => {
    expect(pid).not.toBe(0);
    const keda: KafkaSecurity = { tls: { ca: readFileSync(ca, 'utf8') }, sasl: { mechanism: 'scram-sha-512', username: 'stratus-keda', password: new Secret(USERS.keda) } };
    // Default retries: kafkajs's admin asks for the group's coordinator before it has the cluster's
    // metadata, and only a retry fetches that.
    const kafka = createKafkaClient({ clientId: 'keda', brokers: [address], security: keda, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    try {
      const [committed] = await admin.fetchOffsets({ groupId: GROUP.consumers, topics: [TOPIC.predictions] });
      expect(committed!.topic).toBe(TOPIC.predictions);
      expect((await admin.fetchTopicOffsets(TOPIC.predictions)).length).toBeGreaterThan(0);
    } finally {
      await admin.disconnect();
    }
    const producer = kafka.producer();
    await producer.connect();
    try {
      await expect(producer.send({ topic: TOPIC.predictions, messages: [{ value: 'forged' }] })).rejects.toThrow(/authoriz/i);
    } finally {
      await producer.disconnect();
    }
  }, 60_000);
});
