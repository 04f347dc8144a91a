// compose.yaml's Kafka users and ACLs, as the prod overlay has them (docs/cluster.md#kafka-users-and-acls):
// the broker takes SASL SCRAM-SHA-512 users only (SASL_PLAINTEXT: no TLS on compose's private network),
// with StandardAuthorizer, no access without an ACL, and the super users admin and ANONYMOUS (the
// controller listener's); ops/k8s/overlays/prod/kafka-start.sh formats its storage with admin; the kafka-acls
// one-shot sets the roles' passwords and runs the ACL lines of prod's Job script, mounted from
// ops/k8s/overlays/prod/kafka-acls.sh; each role connects as its own user, after kafka-acls is done.
// The two scripts run here with stand-ins for Kafka's tools, which record what they are given: no broker.
// test/ops/kafka-prod-broker.test.ts runs prod's scripts against a real one.
import { afterAll, describe, expect, test } from 'bun:test';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aclCommandLines, BEGIN, END, JOB_SCRIPT } from '../../scripts/kafka-acl-commands.ts';
import { parseCli } from '../../src/config.ts';
import { dockerCompose, renderCompose } from '../helpers/compose-config.ts';
import { REPO } from '../helpers/process.ts';

const compose = Bun.YAML.parse(readFileSync(join(REPO, 'compose.yaml'), 'utf8')) as { services: Record<string, any> };
const services = compose.services;
const ROLES = ['gateway', 'consumer', 'trainer'] as const;
const ADMIN_VARIABLE = 'KAFKA_ADMIN_PASSWORD';
const passwordVariable = (role: string) => `KAFKA_${role.toUpperCase()}_PASSWORD`;
const START_SCRIPT = join(REPO, 'ops/k8s/overlays/prod/kafka-start.sh');
const ACLS_SCRIPT = join(REPO, 'ops/compose/kafka-acls.sh');

/** The variables a service takes from the user's (`${VAR}`, `${VAR:-…}`, `${VAR:?…}`), anywhere in it. */
function variablesOf(service: unknown): Set<string> {
  return new Set([...JSON.stringify(service).matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)/g)].map((match) => match[1]!));
}

/** A compose value with `${VAR…}` taken from `values` (a required one missing: an error), `$$` as `$`. */
function interpolated(value: string, values: Record<string, string>): string {
  return value
    .replace(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?][^}]*)?\}/g, (_, name: string) => values[name] ?? fail(`no test value for ${name}`))
    .replaceAll('$$', '$');
}

function fail(message: string): never {
  throw new Error(message);
}

/** server.properties as the apache/kafka image writes it from an environment (Kafka 3.9's
 * kafka.docker.KafkaDockerWrapper), as test/ops/kafka-prod-broker.test.ts has it. */
const NOT_PROPERTIES = new Set(['KAFKA_VERSION', 'KAFKA_HEAP_OPTS', 'KAFKA_LOG4J_OPTS', 'KAFKA_OPTS', 'KAFKA_JMX_OPTS', 'KAFKA_JVM_PERFORMANCE_OPTS', 'KAFKA_GC_LOG_OPTS', 'KAFKA_LOG4J_ROOT_LOGLEVEL', 'KAFKA_LOG4J_LOGGERS', 'KAFKA_TOOLS_LOG4J_LOGLEVEL', 'KAFKA_JMX_HOSTNAME']);
function imageProperties(env: Record<string, string>): string[] {
  return Object.entries(env)
    .filter(([name]) => name.startsWith('KAFKA_') && !NOT_PROPERTIES.has(name))
    .map(([name, value]) => `${name.replaceAll('KAFKA_', '').toLowerCase().replaceAll('_', '.').replaceAll('...', '-').replaceAll('..', '_')}=${value}`);
}

/** Host and container path of a bind mount `./host:/container:ro` (read-only demanded). */
function readOnlyMount(service: any, hostPath: string): string {
  const mount = (service.volumes as string[]).find((volume) => volume.startsWith(`./${hostPath}:`));
  if (mount === undefined) throw new Error(`${hostPath} is not mounted`);
  const [, target, mode] = mount.split(':');
  expect({ mount, mode }).toEqual({ mount, mode: 'ro' });
  return target!;
}

/** A script with the paths it uses in the container moved to this test's; each must occur. */
function relocated(script: string, paths: Record<string, string>): string {
  for (const [from, to] of Object.entries(paths)) {
    if (!script.includes(from)) throw new Error(`the script no longer mentions ${from}: update this test`);
    script = script.replaceAll(from, to);
  }
  return script;
}

// Passwords as test values: hex, as the header of compose.yaml asks, and none a part of another.
const VALUES: Record<string, string> = {
  [ADMIN_VARIABLE]: 'a0a0a0a0a0a0a0a0a0a0',
  KAFKA_GATEWAY_PASSWORD: 'b1b1b1b1b1b1b1b1b1b1',
  KAFKA_CONSUMER_PASSWORD: 'c2c2c2c2c2c2c2c2c2c2',
  KAFKA_TRAINER_PASSWORD: 'd3d3d3d3d3d3d3d3d3d3',
};

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});
const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'stratus-compose-kafka-'));
  scratch.push(dir);
  return dir;
};

/** bash with only `env` (and PATH): the test's own KAFKA_* variables must not become properties. */
async function bash(script: string, env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const proc = Bun.spawn(['bash', script], { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env }, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

/** A stand-in for one of Kafka's tools: appends its name and arguments, one per line, then a blank line. */
function recorder(path: string, log: string, extra = ''): void {
  writeFileSync(path, `#!/bin/bash\n{ printf '%s\\n' "$(basename "$0")" "$@"; echo; } >> '${log}'\n${extra}`);
  chmodSync(path, 0o755);
}
const calls = (log: string) =>
  readFileSync(log, 'utf8')
    .split('\n\n')
    .filter((call) => call.trim() !== '')
    .map((call) => call.replace(/^\n+/, '').split('\n'));

describe('compose.yaml: Kafka users and ACLs', () => {
  test('the broker: SCRAM-SHA-512 on a SASL_PLAINTEXT listener, StandardAuthorizer, no access without an ACL', () => {
    const kafka = services.kafka;
    const env = kafka.environment;
    expect(env.KAFKA_LISTENERS).toBe('BROKER://:9092,CONTROLLER://:9093');
    expect(env.KAFKA_ADVERTISED_LISTENERS).toBe('BROKER://kafka:9092');
    expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe('BROKER:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT');
    expect(env.KAFKA_CONTROLLER_LISTENER_NAMES).toBe('CONTROLLER');
    expect(env.KAFKA_INTER_BROKER_LISTENER_NAME).toBe('BROKER');
    expect(env.KAFKA_SASL_ENABLED_MECHANISMS).toBe('SCRAM-SHA-512');
    expect(env.KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL).toBe('SCRAM-SHA-512');
    expect(env.KAFKA_AUTHORIZER_CLASS_NAME).toBe('org.apache.kafka.metadata.authorizer.StandardAuthorizer');
    expect(env.KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND).toBe('false');
    expect(env.KAFKA_SUPER_USERS).toBe('User:admin;User:ANONYMOUS');
    expect(interpolated(env.KAFKA_LISTENER_NAME_BROKER_SCRAM___SHA___512_SASL_JAAS_CONFIG, VALUES)).toBe(
      `org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${VALUES[ADMIN_VARIABLE]}";`,
    );
    // The image's start script stops on an advertised listener named SASL_… (no KAFKA_OPTS) or …SSL://.
    expect(env.KAFKA_ADVERTISED_LISTENERS).not.toMatch(/SASL_|SSL:\/\//);
    // Not KAFKA_*, which would become a broker property; and not published to the host, any port.
    expect(String(env.STRATUS_KAFKA_ADMIN_PASSWORD)).toMatch(/^\$\{KAFKA_ADMIN_PASSWORD:\?/);
    expect(kafka.ports).toBeUndefined();
  });

  test("the broker's security settings are prod's, with SASL_PLAINTEXT for SASL_SSL", () => {
    // The file patches the brokers' StatefulSet and the controllers'; compose's one node is both.
    const patches = Bun.YAML.parse(readFileSync(join(REPO, 'ops/k8s/overlays/prod/kafka-sasl-tls.yaml'), 'utf8')) as any[];
    const prod = patches.find((doc) => doc.metadata.name === 'kafka');
    const prodEnv = new Map<string, string>(prod.spec.template.spec.containers[0].env.filter((e: any) => e.value !== undefined).map((e: any) => [e.name, e.value]));
    const env = services.kafka.environment;
    for (const name of ['KAFKA_INTER_BROKER_LISTENER_NAME', 'KAFKA_SASL_ENABLED_MECHANISMS', 'KAFKA_SASL_MECHANISM_INTER_BROKER_PROTOCOL', 'KAFKA_AUTHORIZER_CLASS_NAME', 'KAFKA_ALLOW_EVERYONE_IF_NO_ACL_FOUND', 'KAFKA_SUPER_USERS']) {
      expect({ name, value: String(env[name]) }).toEqual({ name, value: prodEnv.get(name)! });
    }
    expect(env.KAFKA_LISTENERS).toBe(`${prodEnv.get('KAFKA_LISTENERS')},CONTROLLER://:9093`);
    expect(env.KAFKA_LISTENER_SECURITY_PROTOCOL_MAP).toBe(prodEnv.get('KAFKA_LISTENER_SECURITY_PROTOCOL_MAP')!.replace('SASL_SSL', 'SASL_PLAINTEXT'));
    // The same JAAS line, the password from the user's variable where prod expands its Secret's.
    const jaas = 'KAFKA_LISTENER_NAME_BROKER_SCRAM___SHA___512_SASL_JAAS_CONFIG';
    expect(interpolated(env[jaas], { [ADMIN_VARIABLE]: '$(STRATUS_KAFKA_ADMIN_PASSWORD)' })).toBe(prodEnv.get(jaas)!);
  });

  test('the admin password reaches kafka and kafka-acls alone; each role password its role and kafka-acls', () => {
    const holders = (variable: string) =>
      Object.entries(services)
        .filter(([, service]) => variablesOf(service).has(variable))
        .map(([name]) => name)
        .sort();
    expect(holders(ADMIN_VARIABLE)).toEqual(['kafka', 'kafka-acls']);
    for (const role of ROLES) {
      expect({ role, holders: holders(passwordVariable(role)) }).toEqual({ role, holders: ['kafka-acls', role].sort() });
      const env = services[role].environment;
      expect(env.STRATUS_KAFKA_SASL_USERNAME).toBe(`stratus-${role}`);
      expect(String(env.STRATUS_KAFKA_SASL_PASSWORD)).toMatch(new RegExp(`^\\$\\{${passwordVariable(role)}:\\?`));
      expect(env.STRATUS_KAFKA_SASL_MECHANISM).toBe('scram-sha-512');
      // No TLS: compose's listener has none.
      expect(env.STRATUS_KAFKA_SSL).toBeUndefined();
      // Each starts once its user and ACLs are in place.
      expect(services[role].depends_on['kafka-acls']).toEqual({ condition: 'service_completed_successfully' });
      // The binary reads the user as given.
      const action = parseCli(['--role', role, '--transport', 'kafka', '--kafka-brokers', 'kafka:9092'], {
        ...Object.fromEntries(Object.entries(env).filter(([name]) => name.startsWith('STRATUS_KAFKA_')).map(([name, value]) => [name, interpolated(String(value), VALUES)])),
      });
      if (action.kind !== 'run') throw new Error(`parsed as ${action.kind}`);
      expect(action.config.kafkaTls).toBeNull();
      expect(action.config.kafkaSasl?.username).toBe(`stratus-${role}`);
      expect(action.config.kafkaSasl?.mechanism).toBe('scram-sha-512');
      expect(action.config.kafkaSasl?.password.reveal()).toBe(VALUES[passwordVariable(role)]!);
    }
    // The old optional users are gone, and the CouchDB keeper has no Kafka credential at all.
    for (const role of ROLES) expect(holders(`KAFKA_${role.toUpperCase()}_USERNAME`)).toEqual([]);
    expect([...variablesOf(services['couchdb-keeper'])].filter((name) => name.startsWith('KAFKA_'))).toEqual([]);
  });

  test("kafka-acls runs compose's script with prod's Job script beside it, once kafka is healthy", () => {
    const acls = services['kafka-acls'];
    expect(acls.image).toBe(services.kafka.image);
    expect(acls.restart).toBe('no');
    expect(acls.depends_on).toEqual({ kafka: { condition: 'service_healthy' } });
    expect(acls.ports).toBeUndefined();
    const own = readOnlyMount(acls, 'ops/compose/kafka-acls.sh');
    expect(acls.entrypoint).toEqual(['/bin/bash', own]);
    // Where the script reads prod's from is where it is mounted.
    const prodPath = readOnlyMount(acls, 'ops/k8s/overlays/prod/kafka-acls.sh');
    expect(JOB_SCRIPT).toBe(join(REPO, 'ops/k8s/overlays/prod/kafka-acls.sh'));
    const script = readFileSync(ACLS_SCRIPT, 'utf8');
    expect(script).toContain(`\nprod=${prodPath}\n`);
    // The markers it looks for are the generator's.
    expect(script).toContain(`\nbegin='${BEGIN}'\n`);
    expect(script).toContain(`\nend='${END}'\n`);
    // The roles reach the broker where kafka-acls does.
    expect(acls.environment.BOOTSTRAP).toBe(services.gateway.environment.KAFKA_BROKERS);
    expect(acls.environment.BOOTSTRAP).toBe('kafka:9092');
    for (const name of ['ADMIN', ...ROLES.map((role) => role.toUpperCase())]) {
      expect(String(acls.environment[`STRATUS_KAFKA_${name}_PASSWORD`])).toMatch(new RegExp(`^\\$\\{KAFKA_${name}_PASSWORD:\\?`));
    }
  });

  test("kafka-acls.sh sets each role's password and adds exactly the generated ACL lines, as admin", async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    const log = join(dir, 'calls');
    // kafka-configs.sh also keeps what --command-config holds on its first call.
    recorder(join(dir, 'bin', 'kafka-configs.sh'), log, `[[ -e '${dir}/config-seen' ]] || cp "$4" '${dir}/config-seen'\n`);
    recorder(join(dir, 'bin', 'kafka-acls.sh'), log);
    const config = join(dir, 'admin.properties');
    const script = join(dir, 'kafka-acls.sh');
    writeFileSync(script, relocated(readFileSync(ACLS_SCRIPT, 'utf8'), { '/opt/kafka/bin': join(dir, 'bin'), '/opt/stratus/prod/kafka-acls.sh': JOB_SCRIPT, '/tmp/admin.properties': config }));
    const env = {
      ...Object.fromEntries(Object.entries(services['kafka-acls'].environment).map(([name, value]) => [name, interpolated(String(value), VALUES)])),
      LOG_DIR: join(dir, 'logs'),
    };
    const { code, stdout, stderr } = await bash(script, env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('kafka-acls: users and ACLs in place');

    const admin = ['--bootstrap-server', 'kafka:9092', '--command-config', config];
    const users: Record<string, string> = { GATEWAY_USER: 'stratus-gateway', CONSUMER_USER: 'stratus-consumer', TRAINER_USER: 'stratus-trainer' };
    const expected = [
      ...ROLES.map((role) => ['kafka-configs.sh', ...admin, '--alter', '--entity-type', 'users', '--entity-name', `stratus-${role}`, '--add-config', `SCRAM-SHA-512=[password=${VALUES[passwordVariable(role)]}]`]),
      // Each generated line, its words as bash splits them: "${ADMIN[@]}" and "User:$X" expanded.
      ...aclCommandLines().map((line) => {
        const words = line.split(' ');
        expect(words.slice(0, 2)).toEqual(['kafka-acls.sh', '"${ADMIN[@]}"']);
        return ['kafka-acls.sh', ...admin, ...words.slice(2).map((word) => word.replace(/^"User:\$([A-Z_]+)"$/, (_, variable: string) => `User:${users[variable] ?? fail(`unknown principal ${variable}`)}`))];
      }),
    ];
    expect(calls(log)).toEqual(expected);
    // No KEDA here: prod's lines for it lie outside the generated block.
    expect(readFileSync(log, 'utf8')).not.toContain('keda');
    // The admin's client settings: SCRAM over SASL_PLAINTEXT, readable by the script's user alone.
    expect(readFileSync(join(dir, 'config-seen'), 'utf8').trim().split('\n')).toEqual([
      'security.protocol=SASL_PLAINTEXT',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="admin" password="${VALUES[ADMIN_VARIABLE]}";`,
    ]);
    expect((await Bun.file(config).stat()).mode & 0o777).toBe(0o600);
  });

  test('kafka-acls.sh runs nothing from a prod script without the generated block, or with a line that is no ACL', async () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'bin'));
    const log = join(dir, 'calls');
    recorder(join(dir, 'bin', 'kafka-configs.sh'), log);
    recorder(join(dir, 'bin', 'kafka-acls.sh'), log);
    const prod = readFileSync(JOB_SCRIPT, 'utf8');
    const env = { BOOTSTRAP: 'kafka:9092', ...Object.fromEntries(['ADMIN', 'GATEWAY', 'CONSUMER', 'TRAINER'].map((name) => [`STRATUS_KAFKA_${name}_PASSWORD`, 'x'])) };
    const cases = {
      'no-block': prod.replace(BEGIN, '# BEGIN something else'),
      'not-acl': prod.replace(`${BEGIN}\n`, `${BEGIN}\ntouch '${join(dir, 'ran')}'\n`),
    };
    for (const [name, body] of Object.entries(cases)) {
      const prodCopy = join(dir, `${name}.sh`);
      writeFileSync(prodCopy, body);
      const script = join(dir, `compose-${name}.sh`);
      writeFileSync(script, relocated(readFileSync(ACLS_SCRIPT, 'utf8'), { '/opt/kafka/bin': join(dir, 'bin'), '/opt/stratus/prod/kafka-acls.sh': prodCopy, '/tmp/admin.properties': join(dir, 'admin.properties') }));
      const { code, stderr } = await bash(script, env);
      expect({ name, code }).toEqual({ name, code: 1 });
      expect(stderr).toContain(name === 'no-block' ? 'no generated block' : 'not a generated ACL line');
    }
    expect(existsSync(log)).toBe(false);
    expect(existsSync(join(dir, 'ran'))).toBe(false);
  });

  test('kafka-start.sh formats with the admin user, from the properties the image writes, then hands over', async () => {
    const kafka = services.kafka;
    expect(kafka.entrypoint).toEqual(['/bin/bash', readOnlyMount(kafka, 'ops/k8s/overlays/prod/kafka-start.sh')]);
    const script = readFileSync(START_SCRIPT, 'utf8');
    // Its scratch directory (the properties hold the admin's password) is a tmpfs; no keystore, no TLS.
    const scratchDir = kafka.environment.STRATUS_KAFKA_SCRATCH as string;
    expect(kafka.tmpfs).toContain(scratchDir);
    expect(kafka.environment.KAFKA_SSL_KEYSTORE_LOCATION).toBeUndefined();

    const dir = tempDir();
    for (const sub of ['bin', 'scratch']) mkdirSync(join(dir, sub));
    // kafka-storage.sh keeps a copy of the properties; the image's run records that it ran.
    recorder(join(dir, 'bin', 'kafka-storage.sh'), join(dir, 'storage'), `prev=\nfor arg in "$@"; do [[ $prev == --config ]] && cp "$arg" '${dir}/format.properties'; prev=$arg; done\n`);
    recorder(join(dir, 'bin', 'run'), join(dir, 'run'));
    const relocatedScript = join(dir, 'kafka-start.sh');
    writeFileSync(
      relocatedScript,
      relocated(script, {
        '/opt/kafka/bin/kafka-storage.sh': join(dir, 'bin', 'kafka-storage.sh'),
        '/__cacert_entrypoint.sh': join(dir, 'bin', 'no-such-entrypoint'),
        '/etc/kafka/docker/run': join(dir, 'bin', 'run'),
      }),
    );
    const env = Object.fromEntries(Object.entries(kafka.environment).map(([name, value]) => [name, interpolated(String(value), VALUES)]));
    env.STRATUS_KAFKA_SCRATCH = join(dir, 'scratch');
    const { code, stderr } = await bash(relocatedScript, env);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(calls(join(dir, 'storage'))).toEqual([
      [
        'kafka-storage.sh',
        'format',
        '--ignore-formatted',
        '--cluster-id',
        env.CLUSTER_ID!,
        '--config',
        join(dir, 'scratch', 'format.properties'),
        '--add-scram',
        `SCRAM-SHA-512=[name=admin,password=${VALUES[ADMIN_VARIABLE]}]`,
      ],
    ]);
    expect(readFileSync(join(dir, 'format.properties'), 'utf8').trim().split('\n').sort()).toEqual(imageProperties(env).sort());
    expect(existsSync(join(dir, 'scratch', 'format.properties'))).toBe(false);
    expect(calls(join(dir, 'run'))).toEqual([['run']]);
  });

  test("the broker's health check logs in as admin", () => {
    const check = services.kafka.healthcheck.test;
    expect(check.slice(0, 3)).toEqual(['CMD', 'bash', '-c']);
    const command = String(check[3]).replaceAll('$$', '$');
    expect(command).toStartWith('/opt/kafka/bin/kafka-broker-api-versions.sh --bootstrap-server localhost:9092 --command-config <(');
    expect(command).toContain('security.protocol=SASL_PLAINTEXT sasl.mechanism=SCRAM-SHA-512');
    expect(command).toContain('username=\\"admin\\" password=\\"$STRATUS_KAFKA_ADMIN_PASSWORD\\";');
  });

  // What compose itself renders, where docker-compose is installed (compose-config.ts).
  test.skipIf(dockerCompose === null)('docker-compose config: each Kafka password where it belongs, and every one required', async () => {
    const values: Record<string, string> = {
      COUCHDB_USER: 'the-admin',
      COUCHDB_PASSWORD: 'couchdb-admin-0000',
      COUCHDB_GATEWAY_PASSWORD: 'couchdb-gateway-0000',
      COUCHDB_CONSUMER_PASSWORD: 'couchdb-consumer-0000',
      COUCHDB_TRAINER_PASSWORD: 'couchdb-trainer-0000',
      STRATUS_SESSION_KEY: 'session-key-0000',
      ...VALUES,
    };
    const { code, stdout, stderr } = await renderCompose(values);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const rendered = Bun.YAML.parse(stdout) as { services: Record<string, any> };
    const holding = (value: string) =>
      Object.entries(rendered.services)
        .filter(([, service]) => JSON.stringify(service).includes(value))
        .map(([name]) => name)
        .sort();
    expect(holding(VALUES[ADMIN_VARIABLE]!)).toEqual(['kafka', 'kafka-acls']);
    expect(rendered.services.kafka.environment.KAFKA_LISTENER_NAME_BROKER_SCRAM___SHA___512_SASL_JAAS_CONFIG).toContain(`password="${VALUES[ADMIN_VARIABLE]}";`);
    for (const role of ROLES) {
      expect(holding(VALUES[passwordVariable(role)]!)).toEqual(['kafka-acls', role].sort());
      expect(rendered.services[role].environment.STRATUS_KAFKA_SASL_PASSWORD).toBe(VALUES[passwordVariable(role)]);
      expect(rendered.services['kafka-acls'].environment[`STRATUS_KAFKA_${role.toUpperCase()}_PASSWORD`]).toBe(VALUES[passwordVariable(role)]);
    }
    // The two scripts, mounted from this repository.
    const mounts = (rendered.services['kafka-acls'].volumes as (string | { source: string; target: string })[]).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source));
    expect(mounts.sort()).toEqual([ACLS_SCRIPT, JOB_SCRIPT].sort());
    const kafkaMounts = (rendered.services.kafka.volumes as (string | { source: string })[]).map((v) => (typeof v === 'string' ? v.split(':')[0]! : v.source));
    expect(kafkaMounts).toContain(START_SCRIPT);
    for (const variable of Object.keys(VALUES)) {
      const { [variable]: _, ...without } = values;
      const missing = await renderCompose(without);
      expect({ variable, code: missing.code === 0 ? 0 : 1 }).toEqual({ variable, code: 1 });
      expect(missing.stderr).toContain(`set ${variable}`);
    }
  }, 60_000);
});
