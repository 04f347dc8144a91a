// The trainer's switches and the `evaluate` subcommand, as parseCli reads them.
import { expect, test } from 'bun:test';
import { ConfigError, DEFAULTS, parseCli } from '../../src/config.ts';
import { DEFAULT_MNIST_URL } from '../../src/train/mnist-download.ts';

const config = (argv: string[], env: Record<string, string> = {}) => {
  const action = parseCli(argv, env);
  if (action.kind !== 'run' && action.kind !== 'evaluate') throw new Error(`expected a config, got ${action.kind}`);
  return action.config;
};

test('switches default off, turn on alone without eating the next flag, and take an explicit value', () => {
  // augment null: the trainer picks the arch's default (AUGMENT_BY_DEFAULT).
  expect(DEFAULTS).toMatchObject({ download: false, augment: null, mnistUrl: DEFAULT_MNIST_URL });
  const on = config(['--role', 'trainer', '--download', '--augment', '--epochs', '2']);
  expect(on).toMatchObject({ download: true, augment: true, epochs: 2 });
  expect(config(['--augment=false'], { STRATUS_AUGMENT: 'true' }).augment).toBe(false);
  expect(config([], { STRATUS_AUGMENT: '1', STRATUS_DOWNLOAD: 'yes' })).toMatchObject({ augment: true, download: true });
  expect(() => config(['--augment=sometimes'])).toThrow(new ConfigError("--augment: 'sometimes' is not true|false"));
});

test('--mnist-url takes an http(s) URL only', () => {
  expect(config(['--mnist-url', 'http://127.0.0.1:8080/mnist/']).mnistUrl).toBe('http://127.0.0.1:8080/mnist/');
  expect(() => config(['--mnist-url', 'file:///etc/passwd'])).toThrow(/is not an http\(s\) URL/);
  expect(() => config(['--mnist-url', 'mnist'])).toThrow(/is not an http\(s\) URL/);
});

test('evaluate is a subcommand with its own flags', () => {
  expect(parseCli(['evaluate', '--mnist-dir', 'd'], {})).toEqual({ kind: 'evaluate', config: { ...DEFAULTS, mnistDir: 'd' }, json: false });
  const action = parseCli(['evaluate', '--json', '--model', 'm', '--download'], {});
  expect(action).toMatchObject({ kind: 'evaluate', json: true, config: { model: 'm', download: true } });
  expect(() => parseCli(['evaluate', '--epochs', '3'], {})).toThrow('evaluate does not take --epochs (see --help)');
  // --json belongs to evaluate only; `evaluate` anywhere but first is a stray argument.
  expect(() => parseCli(['--json'], {})).toThrow('unknown flag --json (see --help)');
  expect(() => parseCli(['--role', 'trainer', 'evaluate'], {})).toThrow("unexpected argument 'evaluate' (see --help)");
  // A role-only combination check does not apply to evaluate (it starts no role).
  expect(parseCli(['evaluate'], { STRATUS_ROLE: 'gateway' }).kind).toBe('evaluate');
});
