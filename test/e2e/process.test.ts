// The service as a process: command-line errors, and a clean, draining stop on SIGTERM/SIGINT.
import { describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { postJson } from '../helpers/local-stratus.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { MAIN, REPO, childEnv, freePort, runToEnd, startProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const bun = process.execPath;

describe('command line', () => {
  test.concurrent.each([
    [['--bogus']],
    [['--port', 'eighty']],
    [['--role', 'gateway']],
    [['--transport', 'kafka']],
    [['--model', '/nonexistent/model-dir']],
    [['--role', 'trainer', '--mnist-dir', '/nonexistent']],
  ])('%p: one line on stderr, exit code 2', async (args) => {
    const { code, stderr, stdout } = await runToEnd([bun, MAIN, ...args]);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toStartWith('stratus: ');
    expect(stdout).toBe('');
  });

  test('--help and --version exit 0', async () => {
    const help = await runToEnd([bun, MAIN, '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('--role');
    const version = await runToEnd([bun, MAIN, '--version']);
    expect(version.code).toBe(0);
    expect(version.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/);
  });
});

test('--model serves the model in that directory, under the version its metadata names', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-model-'));
  try {
    for (const file of ['model.json', 'weights.bin']) await Bun.write(join(dir, file), Bun.file(join(REPO, 'models/embedded', file)));
    await Bun.write(join(dir, 'metadata.json'), JSON.stringify({ version: 'custom-v7' }));
    const { url, proc } = await startProcess([bun, MAIN], ['--store', 'memory', '--model', dir]);
    const meta = (await (await fetch(`${url}/v2/models/mnist`)).json()) as { versions: string[] };
    // Served, and listed before the stored ones: the embedded model, a version like any other.
    expect(meta.versions).toEqual(['custom-v7', expect.stringMatching(/^lean-/)]);
    const answer = (await (await postJson(`${url}/api/predict`, { pixels: new Array(784).fill(0) })).json()) as { model: { version: string } };
    expect(answer.model.version).toBe('custom-v7');
    proc.kill('SIGTERM');
    expect(await proc.exited).toBe(0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('--role trainer trains, writes the model and exits 0, like a Kubernetes Job', async () => {
  const out = await mkdtemp(join(tmpdir(), 'stratus-trainer-'));
  try {
    const args = ['--role', 'trainer', '--mnist-dir', MNIST_DIR, '--arch', 'seed', '--epochs', '1', '--max-samples', '2000'];
    const { code, stderr } = await runToEnd([bun, MAIN, ...args, '--out', join(out, 'model'), '--port', String(freePort())]);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    for (const file of ['model.json', 'weights.bin', 'metadata.json']) expect(await Bun.file(join(out, 'model', file)).exists()).toBe(true);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 120_000);

describe('one process per port and per data directory', () => {
  test('a second stratus on a port in use: one line naming the port and the way out, exit 2; the first keeps serving', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-port-'));
    const { url, proc } = await startProcess([bun, MAIN], ['--data-dir', dataDir]);
    try {
      const port = new URL(url).port;
      const second = await runToEnd([bun, MAIN, '--port', port, '--store', 'memory']);
      expect(second.code).toBe(2);
      expect(second.stderr.trim().split('\n')).toHaveLength(1);
      expect(second.stderr).toContain(`port ${port} on 127.0.0.1 is in use`);
      expect(second.stderr).toContain('--port');
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('--share-port lets a second process listen on the same port, on purpose', async () => {
    const port = String(freePort());
    const first = await startShared(port);
    const second = await startShared(port).catch(async (error: unknown) => {
      first.kill('SIGTERM');
      throw error;
    });
    try {
      expect([first.exitCode, second.exitCode]).toEqual([null, null]);
      expect((await fetch(`http://127.0.0.1:${port}/v2/health/ready`)).status).toBe(200);
    } finally {
      for (const proc of [first, second]) proc.kill('SIGTERM');
      await Promise.all([first.exited, second.exited]);
    }
  });

  test('a second stratus on a data directory in use, serving or publishing: one line naming --data-dir, exit 2', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-lock-'));
    const { url, proc } = await startProcess([bun, MAIN], ['--data-dir', dataDir]);
    try {
      const serving = await runToEnd([bun, MAIN, '--port', String(freePort()), '--data-dir', dataDir]);
      const publishing = await runToEnd([bun, MAIN, '--role', 'trainer', '--mnist-dir', MNIST_DIR, '--data-dir', dataDir, '--publish']);
      for (const { code, stderr } of [serving, publishing]) {
        expect(code).toBe(2);
        expect(stderr.trim().split('\n')).toHaveLength(1);
        expect(stderr).toContain(`--data-dir ${dataDir} is in use by another process`);
        expect(stderr).not.toContain('LOCK');
      }
      expect((await fetch(`${url}/v2/health/ready`)).status).toBe(200);
    } finally {
      proc.kill('SIGTERM');
      await proc.exited;
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});

/** A stratus on `port` with --share-port, once it says it started (an answer on the port could be the other's). */
async function startShared(port: string) {
  const proc = Bun.spawn([bun, MAIN, '--port', port, '--share-port', '--store', 'memory', '--log-level', 'info'], { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: childEnv() });
  const reader = proc.stdout.getReader();
  let output = '';
  while (!output.includes('"msg":"stratus started"')) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`exited with ${await proc.exited}: ${await new Response(proc.stderr).text()}`);
    output += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return proc;
}

describe('stopping', () => {
  test.concurrent.each(['SIGTERM', 'SIGINT'] as const)('%s drains in-flight requests and exits 0', async (signal) => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-stop-'));
    try {
      // The longest batching wait (1 s) keeps the requests in flight when the signal arrives.
      const { url, proc } = await startProcess([bun, MAIN], ['--data-dir', dataDir, '--max-wait-ms', '1000', '--max-batch', '1024']);
      const pixels = new Array(784).fill(0);
      const inFlight = Array.from({ length: 20 }, () => postJson(`${url}/api/predict`, { pixels }).then((r) => r.status));
      // Signalled once the gateway holds all twenty, as /metrics says: none can arrive after the signal.
      await waitFor(async () => sampleOf(await (await fetch(`${url}/metrics`)).text(), 'stratus_in_flight_requests') === 20);
      proc.kill(signal);
      // 0, not 1: the drain finished within --shutdown-timeout-ms, or the process would say it cut requests off.
      expect(await proc.exited).toBe(0);
      expect(await Promise.all(inFlight)).toEqual(new Array(20).fill(200));
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('the on-disk store keeps results across a restart', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-restart-'));
    try {
      const first = await startProcess([bun, MAIN], ['--data-dir', dataDir]);
      const answer = (await (await postJson(`${first.url}/api/predict`, { pixels: new Array(784).fill(0) })).json()) as { id: string };
      first.proc.kill('SIGTERM');
      expect(await first.proc.exited).toBe(0);
      // Read the store directly: the API has no read-back endpoint yet.
      const { PouchStore } = await import('../../src/adapters/store/pouch-store.ts');
      const store = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
      await store.open();
      expect((await store.getResult(answer.id))?.id).toBe(answer.id);
      await store.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
