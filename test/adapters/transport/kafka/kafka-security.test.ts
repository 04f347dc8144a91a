// The Kafka transport on a secured broker (test/helpers/kafka-secure-broker.ts: SASL SCRAM on every client
// listener, one of them over TLS, StandardAuthorizer), each role connecting as its own user with the ACLs
// of src/adapters/transport/kafka/acls.ts and nothing more. The transports are made the way a process
// makes them: flags and environment through parseCli, then the transport registry.
import { afterAll, afterEach, beforeAll, describe, expect, setDefaultTimeout, test } from 'bun:test';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AclOperationTypes, AclPermissionTypes, AclResourceTypes, ResourcePatternTypes, logLevel, type AclEntry } from 'kafkajs';
import { ACL_ROLES, kafkaAcls, type AclRole } from '../../../../src/adapters/transport/kafka/acls.ts';
import { createKafkaClient } from '../../../../src/adapters/transport/kafka/client.ts';
import { KafkaTransport, type KafkaLog } from '../../../../src/adapters/transport/kafka/kafka-transport.ts';
import { createTransport } from '../../../../src/adapters/transport/registry.ts';
import { TransportClosedError } from '../../../../src/adapters/transport/transport.ts';
import { parseCli, type Config } from '../../../../src/config.ts';
import { GROUP, TOPIC } from '../../../../src/protocol/topics.ts';
import { startSecureBroker, type ScramUser } from '../../../helpers/kafka-secure-broker.ts';
import { MAIN, runToEnd } from '../../../helpers/process.ts';
import { waitFor } from '../../../helpers/wait.ts';

// Group joins and topic creation take broker round trips, and every connection here adds a SCRAM exchange.
setDefaultTimeout(60_000);

const bytes = (value: string) => new TextEncoder().encode(value);
const text = (value: Uint8Array) => new TextDecoder().decode(value);
const freshPassword = () => crypto.randomUUID().replaceAll('-', '');

describe('kafka security settings, refused before anything starts', () => {
  test('a mechanism without a user is one line on stderr and exit 2, from the binary', async () => {
    const { code, stderr } = await runToEnd(['bun', MAIN, '--role', 'gateway', '--transport', 'kafka', '--kafka-brokers', 'k:9092', '--kafka-sasl-mechanism', 'scram-sha-512', '--check-config']);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('--kafka-sasl-mechanism scram-sha-512 needs a user');
  });

  test('the ACL table: only the trainer and the admin path announce models, only gateways read replies, only consumers read requests', () => {
    const writers = (name: string) => ACL_ROLES.filter((role) => kafkaAcls(role).some((acl) => acl.name === name && acl.operations.includes('WRITE')));
    const readers = (name: string) => ACL_ROLES.filter((role) => kafkaAcls(role).some((acl) => acl.name === name && acl.operations.includes('READ')));
    expect(writers(TOPIC.modelUpdated)).toEqual(['admin', 'trainer']);
    expect(readers(TOPIC.predictions)).toEqual(['consumer']);
    expect(writers(TOPIC.predictions)).toEqual(['gateway', 'admin']);
    // Replies (with session ids) are read by the gateways alone; consumers only write them.
    expect(readers('stratus.replies.')).toEqual(['gateway', 'admin']);
    expect(writers('stratus.replies.')).toEqual(['consumer']);
  });
});

const ROLE_USERS: Readonly<Record<AclRole, ScramUser>> = {
  // The gateway's user also has SCRAM-SHA-256 credentials, to show the other mechanism works.
  gateway: { name: 'stratus-gateway', password: freshPassword(), mechanisms: ['scram-sha-512', 'scram-sha-256'] },
  admin: { name: 'stratus-admin', password: freshPassword(), mechanisms: ['scram-sha-512'] },
  consumer: { name: 'stratus-consumer', password: freshPassword(), mechanisms: ['scram-sha-512'] },
  trainer: { name: 'stratus-trainer', password: freshPassword(), mechanisms: ['scram-sha-512'] },
};

const broker = await startSecureBroker(Object.values(ROLE_USERS));

if (!broker) {
  test.skip('KafkaTransport with SASL, TLS and ACLs (no secure broker on this machine: see the warning above)', () => {});
} else {
  const secretDirs: string[] = [];
  /** A mounted Secret as Kubernetes makes it: one file per key, read-only. */
  const secretDir = (user: ScramUser) => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-kafka-secret-'));
    secretDirs.push(dir);
    for (const [file, value] of [['username', user.name], ['password', `${user.password}\n`]] as const) {
      writeFileSync(join(dir, file), value);
      chmodSync(join(dir, file), 0o400);
    }
    return dir;
  };

  const configOf = (argv: string[], env: Record<string, string> = {}): Config => {
    const action = parseCli(['--transport', 'kafka', '--kafka-client-id', 'stratus-security-test', ...argv], env);
    if (action.kind !== 'run') throw new Error(`expected a run, got ${action.kind}`);
    return action.config;
  };
  // Each role's user, given a different way: flags and STRATUS_KAFKA_SASL_PASSWORD, a secret directory,
  // the environment alone (no mechanism: SCRAM-SHA-512 by default).
  const gatewayConfig = (brokers: string, extra: string[] = [], user = ROLE_USERS.gateway) =>
    configOf(['--role', 'gateway', '--kafka-brokers', brokers, '--kafka-sasl-mechanism', 'scram-sha-512', '--kafka-sasl-username', user.name, ...extra], { STRATUS_KAFKA_SASL_PASSWORD: user.password });
  const consumerConfig = (brokers: string, extra: string[] = []) =>
    configOf(['--role', 'consumer', '--kafka-brokers', brokers, '--kafka-secret-dir', secretDir(ROLE_USERS.consumer), ...extra]);
  const trainerConfig = (brokers: string) =>
    configOf(['--role', 'trainer', '--kafka-brokers', brokers], { STRATUS_KAFKA_SASL_USERNAME: ROLE_USERS.trainer.name, STRATUS_KAFKA_SASL_PASSWORD: ROLE_USERS.trainer.password });

  let opened: KafkaTransport[] = [];
  const open = async (config: Config) => {
    const transport = (await createTransport('kafka', config)) as KafkaTransport;
    opened.push(transport);
    await transport.start();
    return transport;
  };

  beforeAll(async () => {
    const admin = createKafkaClient({ clientId: 'stratus-security-test', brokers: [broker.saslPlaintext], security: broker.admin, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const acl: AclEntry[] = ACL_ROLES.flatMap((role) =>
        kafkaAcls(role).flatMap((entry) =>
          entry.operations.map((operation) => ({
            resourceType: entry.resource === 'topic' ? AclResourceTypes.TOPIC : AclResourceTypes.GROUP,
            resourceName: entry.name,
            resourcePatternType: entry.pattern === 'prefixed' ? ResourcePatternTypes.PREFIXED : ResourcePatternTypes.LITERAL,
            principal: `User:${ROLE_USERS[role].name}`,
            host: '*',
            operation: AclOperationTypes[operation],
            permissionType: AclPermissionTypes.ALLOW,
          })),
        ),
      );
      await admin.createAcls({ acl });
    } finally {
      await admin.disconnect();
    }
  });

  afterEach(async () => {
    await Promise.all(opened.map((t) => t.close()));
    opened = [];
  });

  afterAll(async () => {
    await broker.down();
    for (const dir of secretDirs) rmSync(dir, { recursive: true, force: true });
  });

  describe('SASL SCRAM with ACLs per role', () => {
    test('each role does its part as its own user: request and reply, announcements, a model update from the trainer and the admin path', async () => {
      const [gateway, consumer, trainer, admin] = await Promise.all([
        open(gatewayConfig(broker.saslPlaintext)),
        open(consumerConfig(broker.saslPlaintext)),
        open(trainerConfig(broker.saslPlaintext)),
        // A gateway serving the admin endpoints, with the admin row's user.
        open(gatewayConfig(broker.saslPlaintext, [], ROLE_USERS.admin)),
      ]);
      await consumer.subscribe(TOPIC.predictions, { group: GROUP.consumers, concurrency: 8 }, async (request) => {
        await consumer.reply(request, { value: bytes(`7 for ${text(request.value)}`) });
      });
      const updates: string[] = [];
      await consumer.subscribe(TOPIC.modelUpdated, { group: GROUP.consumerModelUpdates('c1'), concurrency: 4 }, async (m) => void updates.push(text(m.value)));
      const announced: string[] = [];
      await gateway.subscribe(TOPIC.modelAnnouncements, { group: GROUP.gatewayAnnouncements('g1'), concurrency: 4 }, async (m) => void announced.push(text(m.value)));

      const reply = await gateway.request(TOPIC.predictions, { key: 'r1', value: bytes('pixels') }, 30_000);
      expect(text(reply.value)).toBe('7 for pixels');
      await consumer.publish(TOPIC.modelAnnouncements, { key: 'c1', value: bytes('serving v1') });
      await waitFor(() => announced.includes('serving v1'), 30_000, 20);
      await trainer.publish(TOPIC.modelUpdated, { key: 'serving', value: bytes('v2 from the trainer') });
      await admin.publish(TOPIC.modelUpdated, { key: 'serving', value: bytes('v3 from the admin path') });
      await waitFor(() => updates.includes('v2 from the trainer') && updates.includes('v3 from the admin path'), 30_000, 20);
      expect([gateway, consumer, trainer, admin].map((t) => [t.healthy(), t.problem()])).toEqual(Array(4).fill([true, null]));
    });

    test("the gateway's user may not announce a model, through the transport or a bare producer", async () => {
      const [gateway, trainer] = await Promise.all([open(gatewayConfig(broker.saslPlaintext)), open(trainerConfig(broker.saslPlaintext))]);
      await trainer.publish(TOPIC.modelUpdated, { key: 'serving', value: bytes('v4') });
      // The transport makes sure of a topic before its first send, and the gateway's user may not even do that.
      await expect(gateway.publish(TOPIC.modelUpdated, { key: 'serving', value: bytes('forged') })).rejects.toThrow(
        /^cannot create topic stratus\.models\.updated: Not authorized to access topics/,
      );
      // A producer that skips that step: the topic exists (the trainer made it), and the write itself is refused.
      const { kafkaTls, kafkaSasl } = gatewayConfig(broker.saslPlaintext);
      const producer = createKafkaClient({ brokers: [broker.saslPlaintext], security: { tls: kafkaTls, sasl: kafkaSasl }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).producer();
      await producer.connect();
      try {
        await expect(producer.send({ topic: TOPIC.modelUpdated, messages: [{ key: 'serving', value: 'forged' }] })).rejects.toThrow(/authoriz/i);
      } finally {
        await producer.disconnect();
      }
      // Refused, not broken: the gateway still serves.
      expect(gateway.healthy()).toBe(true);
    });

    test("a consumer's user writes replies but cannot read them: a bare consumer on a gateway's inbox is refused", async () => {
      const [gateway, consumer] = await Promise.all([open(gatewayConfig(broker.saslPlaintext)), open(consumerConfig(broker.saslPlaintext))]);
      await consumer.subscribe(TOPIC.predictions, { group: GROUP.consumers, concurrency: 8 }, async (request) => {
        await consumer.reply(request, { value: bytes('session s-1: 7') });
      });
      await gateway.request(TOPIC.predictions, { key: 'r2', value: bytes('pixels') }, 30_000);
      // The gateway's inbox is the one group of its own whose topic is a reply topic.
      const inbox = gateway.consumerGroupStats().find((stats) => stats.topic.startsWith('stratus.replies.'))?.topic;
      expect(inbox).toBeDefined();
      // The consumer role makes no inbox at all, so its user needs no READ on any reply topic.
      expect(consumer.consumerGroupStats().some((stats) => stats.topic.startsWith('stratus.replies.'))).toBe(false);
      const { kafkaTls, kafkaSasl } = consumerConfig(broker.saslPlaintext);
      const kafka = createKafkaClient({ brokers: [broker.saslPlaintext], security: { tls: kafkaTls, sasl: kafkaSasl }, logLevel: logLevel.NOTHING });
      // A group the consumer's user may join (its model-update groups), on a topic it may not read.
      const snoop = kafka.consumer({ groupId: GROUP.consumerModelUpdates('snoop'), retry: { retries: 0 } });
      const seen: string[] = [];
      let refusal: Error | null = null;
      snoop.on(snoop.events.CRASH, ({ payload }) => void (refusal ??= payload.error));
      await snoop.connect();
      try {
        await snoop.subscribe({ topics: [inbox as string], fromBeginning: true });
        await snoop.run({ eachMessage: async ({ message }) => void seen.push(String(message.value)) });
        await waitFor(() => refusal !== null, 30_000, 20);
      } finally {
        await snoop.disconnect();
      }
      expect(String(refusal)).toMatch(/authoriz/i);
      expect(seen).toEqual([]);
    });

    test('SCRAM-SHA-256 works as well, for a user with credentials of that kind', async () => {
      const gateway = await open(configOf(['--role', 'gateway', '--kafka-brokers', broker.saslPlaintext, '--kafka-sasl-mechanism', 'scram-sha-256', '--kafka-sasl-username', ROLE_USERS.gateway.name], { STRATUS_KAFKA_SASL_PASSWORD: ROLE_USERS.gateway.password }));
      await gateway.publish(TOPIC.predictions, { key: 'r3', value: bytes('pixels') });
      expect(gateway.healthy()).toBe(true);
    });

    test('a wrong password: the transport keeps trying, slowly, unready, and says whose credentials were refused', async () => {
      const wrong = freshPassword();
      const config = configOf(['--role', 'gateway', '--kafka-brokers', broker.saslPlaintext, '--kafka-sasl-username', ROLE_USERS.gateway.name], { STRATUS_KAFKA_SASL_PASSWORD: wrong });
      const reasons: string[] = [];
      const log: KafkaLog = (_level, message, fields) => {
        if (message.startsWith('kafka cluster unreachable')) reasons.push(String(fields.reason));
      };
      // Made directly, for its log: the registry's transports log nothing of their own.
      const transport = new KafkaTransport({ brokers: config.kafkaBrokers, security: { tls: config.kafkaTls, sasl: config.kafkaSasl }, log });
      let settled = false;
      const starting = transport.start().finally(() => (settled = true));
      starting.catch(() => {});
      try {
        // Two refusals in a row: it tried again rather than giving up (which would end the process, only
        // for it to be restarted into the same refusal).
        await waitFor(() => reasons.length >= 2, 30_000, 20);
        expect(settled).toBe(false);
        expect(transport.healthy()).toBe(false);
        expect(transport.problem()).toMatch(/^Kafka refused the credentials of user 'stratus-gateway' \(scram-sha-512\), no TLS: SASL SCRAM SHA512 authentication failed/);
        expect(reasons.every((reason) => reason === transport.problem())).toBe(true);
        expect([transport.problem(), ...reasons].join('\n')).not.toContain(wrong);
      } finally {
        await transport.close();
      }
      await expect(starting).rejects.toThrow(TransportClosedError);
    });
  });

  describe('SASL over TLS', () => {
    test('--kafka-ssl with --kafka-ca-file: a request and its reply over the TLS listener', async () => {
      const tls = ['--kafka-ssl', '--kafka-ca-file', broker.caFile];
      const [gateway, consumer] = await Promise.all([open(gatewayConfig(broker.saslSsl, tls)), open(consumerConfig(broker.saslSsl, tls))]);
      expect(gateway.problem()).toBeNull();
      await consumer.subscribe(TOPIC.predictions, { group: GROUP.consumers, concurrency: 8 }, async (request) => {
        await consumer.reply(request, { value: bytes(`over TLS: ${text(request.value)}`) });
      });
      const reply = await gateway.request(TOPIC.predictions, { key: 'r4', value: bytes('pixels') }, 30_000);
      expect(text(reply.value)).toBe('over TLS: pixels');
    });

    test("without the CA file the broker's certificate is not trusted: the connection is refused for it", async () => {
      // A bare client with no retries: the transport's own kafkajs client retries a failed connection for
      // most of a minute before giving up, which is the same refusal, later.
      const { kafkaTls, kafkaSasl } = gatewayConfig(broker.saslSsl, ['--kafka-ssl']);
      expect(kafkaTls).toEqual({ ca: null });
      const admin = createKafkaClient({ brokers: [broker.saslSsl], security: { tls: kafkaTls, sasl: kafkaSasl }, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
      try {
        await expect(admin.connect()).rejects.toThrow(/certificate/i);
      } finally {
        await admin.disconnect();
      }
    });
  });
}
