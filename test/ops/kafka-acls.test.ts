// The prod overlay's Kafka security as rendered: the kafka-acls Job grants exactly the ACLs of
// src/adapters/transport/kafka/acls.ts (through scripts/kafka-acl-commands.ts), plus KEDA's two, to users
// whose Secrets it mounts; and the brokers' environment expands every $(VAR) it uses.
import { describe, expect, test } from 'bun:test';
import { ACL_ROLES, kafkaAcls } from '../../src/adapters/transport/kafka/acls.ts';
import { BEGIN, END, PRINCIPALS, aclCommandLines, generatedBlock } from '../../scripts/kafka-acl-commands.ts';
import { KUSTOMIZE, renderOverlay } from '../helpers/kustomize.ts';


if (KUSTOMIZE === null) {
  if (process.env.STRATUS_REQUIRE_OPS_TOOLS === '1') throw new Error('neither kubectl nor kustomize is installed');
  console.warn('SKIPPED: test/ops/kafka-acls.test.ts needs kubectl or kustomize to render the prod overlay');
}

const renderProd = () => renderOverlay('prod');

// KEDA's lag scaler, not a Stratus role (so not in acls.ts): the two lines the Job adds by hand.
const KEDA_LINES = [
  'kafka-acls.sh "${ADMIN[@]}" --add --allow-principal "User:$KEDA_USER" --operation Describe --group stratus-consumers --resource-pattern-type literal',
  'kafka-acls.sh "${ADMIN[@]}" --add --allow-principal "User:$KEDA_USER" --operation Describe --topic stratus.predictions --resource-pattern-type literal',
];

test('the generator grants every row of the table but the plain gateway, which no user has', () => {
  expect(PRINCIPALS.map((p) => p.role).sort()).toEqual(ACL_ROLES.filter((role) => role !== 'gateway').sort());
  // The admin row holds the gateway's, so the gateways' user loses nothing by getting it.
  for (const acl of kafkaAcls('gateway')) expect(kafkaAcls('admin')).toContainEqual(acl);
  expect(aclCommandLines()).toHaveLength(PRINCIPALS.reduce((n, p) => n + kafkaAcls(p.role).length, 0));
});

describe.skipIf(KUSTOMIZE === null)('prod: the kafka-acls Job', () => {
  test('its script holds exactly the generated lines (else: bun scripts/kafka-acl-commands.ts --update), and KEDA\'s', async () => {
    const manifests = await renderProd();
    const script = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'kafka-acls')?.data?.['kafka-acls.sh'];
    expect(script).toBeDefined();
    expect(generatedBlock(script!)).toEqual(aclCommandLines());
    // Outside the block: KEDA's lines and no other grant.
    const outside = script!.split('\n').filter((line, i, all) => i < all.indexOf(BEGIN) || i > all.indexOf(END));
    expect(outside.filter((line) => line.includes('kafka-acls.sh') && line.includes('--add'))).toEqual(KEDA_LINES);
  });

  test('runs that script and mounts the user of every principal it names, and the CA', async () => {
    const manifests = await renderProd();
    const job = manifests.find((m) => m.kind === 'Job' && m.metadata.name === 'kafka-acls')!;
    const pod = job.spec.template.spec;
    const container = pod.containers[0];
    expect(container.command).toEqual(['/bin/bash', '/opt/stratus/kafka-acls.sh']);
    const mounts = new Map<string, string>(container.volumeMounts.map((m: any) => [m.name, m.mountPath]));
    const volumes = new Map<string, any>(pod.volumes.map((v: any) => [v.name, v]));
    expect(volumes.get('script').configMap.name).toBe('kafka-acls');
    expect(mounts.get('script')).toBe('/opt/stratus');
    expect(mounts.get('users')).toBe('/var/run/secrets/kafka-users');
    const files = volumes.get('users').projected.sources.flatMap((s: any) => s.secret.items.map((i: any) => `${s.secret.name}:${i.key}:${i.path}`));
    expect(files.sort()).toEqual(
      [
        'stratus-kafka-admin:password:admin/password',
        ...['gateway', 'consumer', 'trainer', 'keda'].flatMap((user) => [`stratus-kafka-${user}:username:${user}/username`, `stratus-kafka-${user}:password:${user}/password`]),
      ].sort(),
    );
    expect(mounts.get('kafka-ca')).toBe('/var/run/secrets/kafka-ca');
    // Every principal variable the lines use is read from its user's mounted username.
    const script = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'kafka-acls')!.data!['kafka-acls.sh']!;
    for (const { variable } of [...PRINCIPALS, { variable: 'KEDA_USER' }]) {
      const user = variable.replace('_USER', '').toLowerCase();
      expect(script).toContain(`${variable}=$(user ${user})`);
    }
  });
});

describe.skipIf(KUSTOMIZE === null)('prod: the brokers', () => {
  test('every $(VAR) in the kafka container\'s environment names a variable defined above it', async () => {
    const manifests = await renderProd();
    const kafka = manifests.find((m) => m.kind === 'StatefulSet' && m.metadata.name === 'kafka')!;
    const env: { name: string; value?: string }[] = kafka.spec.template.spec.containers[0].env;
    const unexpanded: string[] = [];
    env.forEach((entry, i) => {
      for (const [, name] of (entry.value ?? '').matchAll(/\$\(([A-Za-z0-9_]+)\)/g)) {
        if (!env.slice(0, i).some((before) => before.name === name)) unexpanded.push(`${entry.name}: $(${name})`);
      }
    });
    expect(unexpanded).toEqual([]);
    const value = (name: string) => env.find((e) => e.name === name)?.value;
    expect(value('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')).toBe('BROKER:SASL_SSL,CONTROLLER:PLAINTEXT');
    expect(value('KAFKA_AUTHORIZER_CLASS_NAME')).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(value('KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND')).toBe('false');
    // The image's start script takes over SSL settings for any advertised listener named *SSL (see
    // kafka-sasl-tls.yaml): the PEM keystore works only while none is.
    expect(value('KAFKA_ADVERTISED_LISTENERS')).not.toContain('SSL://');
  });

  test('the roles reach them by the fully qualified names the brokers advertise, over TLS, as their own users', async () => {
    const manifests = await renderProd();
    const config = manifests.find((m) => m.kind === 'ConfigMap' && m.metadata.name === 'stratus-config')!.data!;
    expect(config.KAFKA_BROKERS!.split(',')).toEqual([0, 1, 2].map((n) => `kafka-${n}.kafka-headless.stratus.svc.cluster.local:9092`));
    for (const [kind, name, role] of [['Deployment', 'stratus-gateway', 'gateway'], ['Deployment', 'stratus-consumer', 'consumer'], ['Job', 'stratus-trainer', 'trainer']] as const) {
      const container = manifests.find((m) => m.kind === kind && m.metadata.name === name)!.spec.template.spec.containers[0];
      const env = new Map<string, any>(container.env.map((e: any) => [e.name, e]));
      expect(env.get('STRATUS_KAFKA_SSL')?.value).toBe('true');
      expect(env.get('STRATUS_KAFKA_CA_FILE')?.value).toBe('/var/run/secrets/stratus/kafka-ca/ca.crt');
      for (const key of ['username', 'password']) {
        const ref = env.get(`STRATUS_KAFKA_SASL_${key.toUpperCase()}`)?.valueFrom?.secretKeyRef;
        // Required: no `optional`, so the pod waits for its Secret.
        expect(ref).toEqual({ name: `stratus-kafka-${role}`, key });
      }
    }
  });
});
