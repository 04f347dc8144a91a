import { describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEFAULTS, helpText, parseCli } from '../src/config.ts';

const run = (argv: string[], env: Record<string, string> = {}) => {
  const action = parseCli(argv, env);
  if (action.kind !== 'run') throw new Error(`expected run, got ${action.kind}`);
  return action.config;
};

describe('command line and environment', () => {
  test('no flags gives the documented defaults', () => {
    const config = run([]);
    expect(config).toEqual(DEFAULTS);
    expect(config.role).toBe('all');
    expect(config.host).toBe('127.0.0.1');
    // No port given: the role's own (3000 for the serving roles, none for the trainer; runtime.test.ts).
    expect(config.port).toBeNull();
    expect(config.sharePort).toBe(false);
    expect(config.dataDir).toBe('./stratus-data');
    expect(config.model).toBeNull();
  });

  test('environment overrides defaults and flags override environment', () => {
    const env = { STRATUS_PORT: '4000', STRATUS_LOG_LEVEL: 'debug', STRATUS_STORE: 'memory' };
    expect(run([], env).port).toBe(4000);
    expect(run([], env).logLevel).toBe('debug');
    const config = run(['--port', '5000', '--store=pouchdb'], env);
    expect(config.port).toBe(5000);
    expect(config.store).toBe('pouchdb');
    expect(config.logLevel).toBe('debug');
  });

  test('the result is frozen', () => {
    const config = run(['--port', '1234']);
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { port: number }).port = 1;
    }).toThrow();
  });

  test('help and version are actions, not runs', () => {
    expect(parseCli(['--help'], {}).kind).toBe('help');
    expect(parseCli(['--port', '1', '--version'], {}).kind).toBe('version');
    const help = helpText('9.9.9');
    for (const flag of ['--role', '--host', '--port', '--data-dir', '--transport', '--store', '--model', '--log-level']) {
      expect(help).toContain(flag);
    }
  });

  test.each([
    [['--colour', 'red'], /unknown flag --colour/],
    [['--role', 'chef'], /--role: 'chef' is not one of gateway\|consumer\|trainer\|all/],
    [['--port', '70000'], /--port: '70000' is not an integer in 0\.\.65535/],
    [['--port', '12x'], /--port/],
    [['--port'], /--port needs a value/],
    [['--host', ''], /--host: must not be empty/],
    [['serve'], /unexpected argument 'serve'/],
    [['--role', 'gateway'], /--role gateway needs --transport kafka/],
    [['--arch', 'resnet'], /--arch: 'resnet' is not one of seed\|default/],
    [['--epochs', '0'], /--epochs: '0' is not an integer in 1\.\.1000/],
    [['--max-samples', '-5'], /--max-samples: '-5' is not an integer/],
    [['--batch-size', 'big'], /--batch-size/],
    [['--mnist-dir', ' '], /--mnist-dir: must not be empty/],
    [['--rate-limit', 'api=fast'], /--rate-limit: 'api=fast' is not page\|api\|admin=<per second>\/<burst> or =off/],
    [['--rate-limit', 'probes=1/1'], /--rate-limit: 'probes=1\/1' is not/],
    [['--rate-limit', 'api=0/10'], /--rate-limit: 'api=0\/10' needs a rate above 0 and a burst of 1 or more/],
    [['--trusted-proxies', '10.0.0.0/33'], /--trusted-proxies: '10.0.0.0\/33' is not an IP address or CIDR range/],
    [['--trusted-proxies', 'proxy.local'], /--trusted-proxies: 'proxy.local' is not/],
    [['--engine', 'tpu'], /--engine: 'tpu' is not one of onnx\|wasm/],
    [['--engine', 'ONNX'], /--engine: 'ONNX' is not one of onnx\|wasm/],
  ])('bad input %p is a ConfigError naming the problem', (argv, message) => {
    expect(() => parseCli(argv as string[], {})).toThrow(ConfigError);
    expect(() => parseCli(argv as string[], {})).toThrow(message);
  });

  test('rate limits: the kinds named change, the others keep their defaults; off lifts one', () => {
    const config = run(['--rate-limit', 'api=2.5/5,admin=off']);
    expect(config.rateLimits).toEqual({ page: DEFAULTS.rateLimits.page, api: { perSecond: 2.5, burst: 5 }, admin: null });
    expect(run([], { STRATUS_RATE_LIMIT: 'page=off' }).rateLimits.page).toBeNull();
  });

  test('retention is a duration of 1 s to 3650 d; the limits are counts; each refuses nonsense', () => {
    expect(DEFAULTS.retentionMs).toBe(30 * 86_400_000);
    expect(run(['--retention', '5s']).retentionMs).toBe(5_000);
    expect(run(['--retention=12h', '--history-limit', '10', '--feedback-limit', '500']).retentionMs).toBe(12 * 3_600_000);
    expect(run([], { STRATUS_RETENTION: '2w', STRATUS_HISTORY_LIMIT: '7' })).toMatchObject({ retentionMs: 14 * 86_400_000, historyLimit: 7 });
    for (const bad of ['0s', '5', '5x', '1.5d', '-1d', '3651d', '']) {
      expect(() => parseCli(['--retention', bad], {})).toThrow(ConfigError);
    }
    expect(() => parseCli(['--history-limit', '0'], {})).toThrow(ConfigError);
    expect(() => parseCli(['--feedback-limit', 'many'], {})).toThrow(ConfigError);
  });

  test('--engine names onnx or wasm, by flag or STRATUS_ENGINE; unset, the runtime picks (onnx where it loads)', () => {
    expect(DEFAULTS.engine).toBeNull();
    expect(run([]).engine).toBeNull();
    expect(run(['--engine', 'wasm']).engine).toBe('wasm');
    expect(run(['--engine=onnx']).engine).toBe('onnx');
    expect(run([], { STRATUS_ENGINE: 'wasm' }).engine).toBe('wasm');
    expect(run(['--engine', 'onnx'], { STRATUS_ENGINE: 'wasm' }).engine).toBe('onnx');
    expect(() => parseCli([], { STRATUS_ENGINE: 'cuda' })).toThrow(/STRATUS_ENGINE: 'cuda' is not one of onnx\|wasm/);
    expect(helpText('9.9.9')).toMatch(/--engine +onnx\|wasm: .*default onnx where ONNX Runtime loads, else wasm.*\[STRATUS_ENGINE\]/);
  });

  test('trusted proxies: addresses and CIDR ranges of either family', () => {
    expect(run(['--trusted-proxies', '10.0.0.0/8, 192.168.1.7,fd00::/8,::1']).trustedProxies).toEqual(['10.0.0.0/8', '192.168.1.7', 'fd00::/8', '::1']);
    expect(DEFAULTS.trustedProxies).toEqual([]);
  });

  test('the trainer flags and their environment variables', () => {
    const config = run(['--role', 'trainer', '--arch', 'seed', '--epochs', '2', '--max-samples=3000', '--out', '/tmp/m'], {
      STRATUS_MNIST_DIR: '/data/mnist',
      STRATUS_BATCH_SIZE: '128',
      STRATUS_SEED: '7',
    });
    expect(config).toMatchObject({ role: 'trainer', transport: 'memory', arch: 'seed', epochs: 2, maxSamples: 3000, out: '/tmp/m' });
    expect(config).toMatchObject({ mnistDir: '/data/mnist', batchSize: 128, seed: 7 });
    expect(DEFAULTS).toMatchObject({ mnistDir: './mnist', arch: 'default', epochs: 6, batchSize: 64, maxSamples: 0, seed: 42 });
  });

  test('an admin token or session key shorter than 32 characters is refused without being echoed', () => {
    const short = 'hunter2-hunter2-hunter2';
    for (const name of ['STRATUS_ADMIN_TOKEN', 'STRATUS_SESSION_KEY']) {
      let message = '';
      try {
        parseCli([], { [name]: short });
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        message = (error as Error).message;
      }
      expect(message).toBe(`${name} has ${short.length} characters; use at least 32 (openssl rand -hex 16)`);
    }
    const config = run([], { STRATUS_ADMIN_TOKEN: 'a'.repeat(32), STRATUS_SESSION_KEY: 'b'.repeat(64) });
    expect(config.adminToken?.reveal()).toBe('a'.repeat(32));
    expect(config.sessionKey?.reveal()).toBe('b'.repeat(64));
    expect(JSON.stringify(config)).not.toContain('b'.repeat(64));
    expect(DEFAULTS).toMatchObject({ adminToken: null, sessionKey: null, secureCookies: false });
    expect(run(['--secure-cookies']).secureCookies).toBe(true);
  });

  test('--publish-url carries the admin token: https, or plain http only to this machine', () => {
    for (const url of ['https://gateway.example:8443', 'http://127.0.0.1:3000', 'http://localhost:3000', 'http://[::1]:3000']) {
      expect(run(['--role', 'trainer', '--publish-url', url]).publishUrl).toBe(url);
    }
    for (const url of ['http://gateway.example:3000', 'http://10.0.0.7:3000', 'http://127.0.0.1.example.com']) {
      expect(() => run(['--role', 'trainer', '--publish-url', url])).toThrow(/--publish-url: http:\/\/ would send the admin token in clear/);
    }
  });

  test('a bad environment value names the variable', () => {
    expect(() => parseCli([], { STRATUS_TRANSPORT: 'carrier-pigeon' })).toThrow(/STRATUS_TRANSPORT: 'carrier-pigeon'/);
  });
});

describe('Kafka TLS and SASL settings', () => {
  const kafka = (argv: string[], env: Record<string, string> = {}) => run(['--transport', 'kafka', '--kafka-brokers', 'k:9092', ...argv], env);
  const password = 'scram-password-not-to-be-echoed';

  test('all off by default: plain TCP, no user', () => {
    expect(DEFAULTS).toMatchObject({ kafkaSsl: false, kafkaCaFile: null, kafkaSaslMechanism: null, kafkaSaslUsername: null, kafkaSecretDir: null, kafkaTls: null, kafkaSasl: null });
    expect(kafka([])).toMatchObject({ kafkaTls: null, kafkaSasl: null });
    expect(helpText('9.9.9')).toMatch(/--kafka-sasl-mechanism +SASL mechanism, scram-sha-256\|scram-sha-512 .*\[STRATUS_KAFKA_SASL_MECHANISM\]/);
  });

  test('a user from flags or environment, its password from the environment only, never shown', () => {
    const config = kafka(['--kafka-sasl-mechanism', 'scram-sha-256', '--kafka-sasl-username', 'stratus-gateway'], { STRATUS_KAFKA_SASL_PASSWORD: password });
    expect(config.kafkaSasl).toMatchObject({ mechanism: 'scram-sha-256', username: 'stratus-gateway' });
    expect(config.kafkaSasl?.password.reveal()).toBe(password);
    // Without a mechanism, a user means SCRAM-SHA-512.
    const fromEnv = kafka([], { STRATUS_KAFKA_SASL_USERNAME: 'stratus-consumer', STRATUS_KAFKA_SASL_PASSWORD: password });
    expect(fromEnv.kafkaSasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'stratus-consumer' });
    expect(JSON.stringify(fromEnv)).not.toContain(password);
    expect(Bun.inspect(fromEnv)).not.toContain(password);
    // There is no flag for it: a password on the command line shows in the process list.
    expect(() => kafka(['--kafka-sasl-password', password])).toThrow(/^unknown flag --kafka-sasl-password/);
  });

  test('a mounted secret directory gives user and password, and beats the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-kafka-secret-'));
    try {
      writeFileSync(join(dir, 'username'), 'stratus-trainer\n');
      writeFileSync(join(dir, 'password'), `${password}\n`);
      const config = kafka(['--kafka-secret-dir', dir], { STRATUS_KAFKA_SASL_USERNAME: 'someone-else', STRATUS_KAFKA_SASL_PASSWORD: 'other' });
      expect(config.kafkaSasl).toMatchObject({ mechanism: 'scram-sha-512', username: 'stratus-trainer' });
      expect(config.kafkaSasl?.password.reveal()).toBe(password);
      rmSync(join(dir, 'password'));
      expect(() => kafka(['--kafka-secret-dir', dir])).toThrow(`--kafka-secret-dir: cannot read password in ${dir}`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a CA file for --kafka-ssl is read at start; without one, the system CAs', () => {
    const dir = mkdtempSync(join(tmpdir(), 'stratus-kafka-ca-'));
    try {
      const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
      writeFileSync(join(dir, 'ca.pem'), pem);
      writeFileSync(join(dir, 'not-a-ca.pem'), 'hello');
      expect(kafka(['--kafka-ssl']).kafkaTls).toEqual({ ca: null });
      expect(kafka(['--kafka-ssl', '--kafka-ca-file', join(dir, 'ca.pem')]).kafkaTls).toEqual({ ca: pem });
      expect(kafka([], { STRATUS_KAFKA_SSL: 'true', STRATUS_KAFKA_CA_FILE: join(dir, 'ca.pem') }).kafkaTls).toEqual({ ca: pem });
      expect(() => kafka(['--kafka-ssl', '--kafka-ca-file', join(dir, 'missing.pem')])).toThrow(`--kafka-ca-file: cannot read ${join(dir, 'missing.pem')}`);
      expect(() => kafka(['--kafka-ssl', '--kafka-ca-file', join(dir, 'not-a-ca.pem')])).toThrow(/holds no PEM certificate/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('combinations that cannot work are refused with one line that names the fix, never the password', () => {
    const refusals: Array<[string[], Record<string, string>, RegExp]> = [
      [['--kafka-sasl-mechanism', 'scram-sha-512'], {}, /^--kafka-sasl-mechanism scram-sha-512 needs a user: --kafka-sasl-username and STRATUS_KAFKA_SASL_PASSWORD, or --kafka-secret-dir$/],
      [['--kafka-sasl-username', 'stratus-gateway'], {}, /^--kafka-sasl-username stratus-gateway needs a password: STRATUS_KAFKA_SASL_PASSWORD/],
      [[], { STRATUS_KAFKA_SASL_PASSWORD: password }, /^STRATUS_KAFKA_SASL_PASSWORD is set but no user is/],
      [['--kafka-ca-file', '/etc/ssl/ca.pem'], {}, /^--kafka-ca-file needs --kafka-ssl/],
      [['--kafka-sasl-mechanism', 'plain'], {}, /^--kafka-sasl-mechanism: 'plain' is not one of scram-sha-256\|scram-sha-512$/],
    ];
    for (const [argv, env, message] of refusals) {
      let error: unknown;
      try {
        kafka(argv, env);
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toMatch(message);
      expect((error as Error).message).not.toContain(password);
      expect((error as Error).message).not.toContain('\n');
    }
  });
});
