// The trainer's flags and the `evaluate` subcommand, as parseCli reads them: switches, data-parallel
// threads (--workers) and distributed ranks (--world-size).
import { describe, expect, test } from 'bun:test';
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

const configOf = (argv: string[], env: Record<string, string> = {}) => {
  const action = parseCli(argv, env);
  if (action.kind !== 'run') throw new Error(`expected a run, got ${action.kind}`);
  return action.config;
};

describe('--workers, --sync, --sync-every', () => {
  test('default to one worker, gradient averaging, 8 steps', () => {
    const config = configOf(['--role', 'trainer']);
    expect([config.workers, config.sync, config.syncEvery]).toEqual([1, 'gradients', 8]);
  });

  test('come from flags and the environment, flags winning', () => {
    const config = configOf(['--role', 'trainer', '--workers', '2', '--sync', 'weights'], { STRATUS_WORKERS: '3', STRATUS_SYNC_EVERY: '4' });
    expect([config.workers, config.sync, config.syncEvery]).toEqual([2, 'weights', 4]);
  });

  test('bad values and other roles are refused with one line', () => {
    expect(() => parseCli(['--role', 'trainer', '--workers', '0'], {})).toThrow(ConfigError);
    expect(() => parseCli(['--role', 'trainer', '--sync', 'ring'], {})).toThrow(/not one of gradients\|weights/);
    expect(() => parseCli(['--role', 'trainer', '--sync-every', '-1'], {})).toThrow(ConfigError);
    expect(() => parseCli(['--role', 'all', '--workers', '2'], {})).toThrow(/--workers belongs to --role trainer/);
  });
});

describe('the flags of a distributed run', () => {
  const parse = (argv: string[], env: Record<string, string> = {}) => parseCli(['--role', 'trainer', '--transport', 'kafka', '--kafka-brokers', 'k:9092', ...argv], env);
  test('rank and world size come from the Indexed Job environment unless flags say otherwise', () => {
    const action = parse([], { JOB_COMPLETION_INDEX: '1', STRATUS_WORLD_SIZE: '2' });
    expect(action).toMatchObject({ kind: 'run', config: { rank: 1, worldSize: 2, jobId: null, peerTimeoutMs: 60_000 } });
    expect(parse(['--rank', '0'], { JOB_COMPLETION_INDEX: '1', STRATUS_WORLD_SIZE: '2' })).toMatchObject({ config: { rank: 0 } });
  });

  test('combinations that cannot work are refused with one line', () => {
    expect(() => parse(['--rank', '2', '--world-size', '2'])).toThrow(ConfigError);
    expect(() => parseCli(['--role', 'trainer', '--world-size', '2'], {})).toThrow(/--world-size 2 needs --transport kafka/);
    expect(() => parse(['--world-size', '2', '--workers', '2'])).toThrow(/--workers and --world-size/);
    expect(() => parseCli(['--role', 'all', '--world-size', '2', '--transport', 'kafka', '--kafka-brokers', 'k:9092'], {})).toThrow(/--world-size belongs to --role trainer/);
  });
});

describe('--lr-schedule, --clean-epochs and --teacher', () => {
  test('default to the exponential decay, no clean epochs and no teacher; take flags and the environment', () => {
    expect([DEFAULTS.lrSchedule, DEFAULTS.cleanEpochs, DEFAULTS.teachers]).toEqual(['exponential', 0, []]);
    const config = configOf(['--role', 'trainer', '--lr-schedule', 'cosine', '--clean-epochs', '10', '--teacher', 'a, b/c']);
    expect([config.lrSchedule, config.cleanEpochs, config.teachers]).toEqual(['cosine', 10, ['a', 'b/c']]);
    expect(configOf(['--role', 'trainer'], { STRATUS_TEACHER: 'models/big' }).teachers).toEqual(['models/big']);
    expect(configOf(['--role', 'trainer'], { STRATUS_CLEAN_EPOCHS: '3' }).cleanEpochs).toBe(3);
  });

  test('bad values and other roles are refused with one line', () => {
    expect(() => parseCli(['--role', 'trainer', '--lr-schedule', 'linear'], {})).toThrow(/not one of exponential\|cosine/);
    expect(() => parseCli(['--role', 'trainer', '--teacher', 'a,,b'], {})).toThrow(/not a comma-separated list of directories/);
    expect(() => parseCli(['--role', 'trainer', '--clean-epochs', '-1'], {})).toThrow(/--clean-epochs/);
    expect(() => parseCli(['--role', 'all', '--clean-epochs', '2'], {})).toThrow('--clean-epochs belongs to --role trainer, not --role all');
    expect(() => parseCli(['--role', 'all', '--teacher', 'a'], {})).toThrow('--teacher belongs to --role trainer, not --role all');
  });
});
