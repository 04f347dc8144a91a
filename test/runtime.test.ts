// One process's runtime: which roles listen where, and which engine a consumer runs its model on.
import { expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PORT, parseCli } from '../src/config.ts';
import { createLogger } from '../src/log.ts';
import { startRuntime } from '../src/runtime.ts';
import { MNIST_DIR } from './helpers/data.ts';

const configOf = (args: string[]) => {
  const action = parseCli(args, {});
  if (action.kind !== 'run') throw new Error('expected a run');
  return action.config;
};

test('serving roles listen on the default port; a trainer given no --port serves no HTTP, so it never takes a demo\'s port', async () => {
  expect(configOf([]).port).toBeNull();
  expect(DEFAULT_PORT).toBe(3000);
  const out = await mkdtemp(join(tmpdir(), 'stratus-runtime-'));
  try {
    const config = configOf(['--role', 'trainer', '--mnist-dir', MNIST_DIR, '--arch', 'seed', '--epochs', '1', '--max-samples', '500', '--out', out]);
    const lines: string[] = [];
    const running = await startRuntime(config, createLogger('info', { write: (line: string) => lines.push(line), isTTY: false }));
    // It names no store or transport: it uses neither (in-process stand-ins keep its probes uniform).
    const started = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'stratus started');
    expect(started).toMatchObject({ role: 'trainer' });
    expect(started).not.toHaveProperty('store');
    expect(started).not.toHaveProperty('transport');
    expect(running.url).toBeNull();
    expect(running.port).toBeNull();
    await running.finished;
    await running.stop();
    expect(await Bun.file(join(out, 'model.json')).exists()).toBe(true);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 60_000);

test('a consumer says at start which engine runs which model version, and /metrics shows the engine', async () => {
  for (const [flags, engine] of [[[], 'onnx'], [['--engine', 'wasm'], 'wasm']] as const) {
    const lines: string[] = [];
    const config = configOf(['--port', '0', '--store', 'memory', ...flags]);
    const running = await startRuntime(config, createLogger('info', { write: (line: string) => lines.push(line), isTTY: false }));
    try {
      const loaded = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.msg === 'model loaded');
      expect(loaded).toMatchObject({ actor: 'consumer', engine, model: expect.stringMatching(/^lean-/) });
      const metrics = await (await fetch(`${running.url}/metrics`)).text();
      expect(metrics).toContain(`stratus_inference_engine{engine="${engine}"} 1`);
    } finally {
      await running.stop();
    }
  }
});
