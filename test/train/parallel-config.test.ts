// The flags of data-parallel training: parsed, defaulted, and refused where they make no sense.
import { describe, expect, test } from 'bun:test';
import { ConfigError, parseCli } from '../../src/config.ts';

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
