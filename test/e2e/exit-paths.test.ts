// How the process ends when something goes wrong, or when it is told to stop while busy: the exit codes a
// supervisor (Kubernetes, systemd, a shell) reads, the line a person reads, and what requests get meanwhile.
// Cluster mode's drain, and a drain that overruns its budget, are in cluster-drain.test.ts.
import { expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson } from '../helpers/local-stratus.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { childEnv, freePort, MAIN, REPO, runToEnd, startProcess } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const bun = process.execPath;
const PIXELS = 784;
const mnist = loadSplit(MNIST_DIR, 'test');
const digit = (i: number) => Array.from(mnist.images.subarray(i * PIXELS, (i + 1) * PIXELS));

test('a start that fails on a fault, not on a flag: exit 1, one line on stderr saying why, the cause in the log', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-start-failure-'));
  try {
    // A data directory that is a file: the store cannot open there. Not a usage mistake (those exit 2).
    const file = join(dir, 'not-a-directory');
    await Bun.write(file, 'x');
    const { code, stdout, stderr } = await runToEnd([bun, MAIN, '--port', String(freePort()), '--data-dir', file]);
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toStartWith('stratus: could not start: ');
    expect(stderr).toContain('ENOTDIR');
    expect(stderr).toContain(file);
    const fatal = stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message: string } })
      .filter((entry) => entry.level === 60);
    expect(fatal).toHaveLength(1);
    expect(fatal[0]?.msg).toBe('could not start');
    expect(fatal[0]?.err?.message).toContain('ENOTDIR');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a trainer stopped by SIGTERM while it trains: exit 1 (a Job that did not succeed), one line saying so, no model written', async () => {
  const out = await mkdtemp(join(tmpdir(), 'stratus-trainer-stopped-'));
  try {
    // More epochs than it could finish before the signal: it is stopped mid-run, whatever the machine.
    const args = ['--role', 'trainer', '--mnist-dir', MNIST_DIR, '--arch', 'seed', '--epochs', '100', '--max-samples', '2000', '--out', join(out, 'model'), '--log-level', 'info'];
    const proc = Bun.spawn([bun, MAIN, ...args], { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: childEnv() });
    // Signalled once its log says training runs, not after a guessed pause.
    const log = await readUntil(proc.stdout, '"msg":"training started"');
    expect(log).toContain('"msg":"training started"');
    proc.kill('SIGTERM');
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    expect(code).toBe(1);
    expect(stderr).toBe('stratus: training interrupted by SIGTERM; no model written\n');
    expect(await Bun.file(join(out, 'model', 'model.json')).exists()).toBe(false);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}, 60_000);

test('after SIGTERM: a request in flight is answered, a new one gets a JSON 503 with Retry-After, and the process exits 0', async () => {
  // The consumer waits up to 1 s (the most --max-wait-ms allows) for company: the one request stays in
  // flight that long, which is when the signal comes and the late requests arrive. Nothing here sleeps:
  // each step waits for the state the previous one brings about.
  const { url, proc } = await startProcess([bun, MAIN], ['--store', 'memory', '--max-wait-ms', '1000', '--max-batch', '1024']);
  try {
    const held = postJson(`${url}/api/predict`, { pixels: digit(0) });
    await waitFor(async () => sampleOf(await (await fetch(`${url}/metrics`)).text(), 'stratus_in_flight_requests') === 1);
    proc.kill('SIGTERM');
    // Intake closed: the probe says the gateway is not ready, so a load balancer stops sending.
    await waitFor(async () => {
      const ready = await fetch(`${url}/v2/health/ready`);
      return ready.status === 503 && ((await ready.json()) as { reasons?: string[] }).reasons?.includes('gateway is not ready') === true;
    });

    const late = await postJson(`${url}/api/predict`, { pixels: digit(1) });
    expect([late.status, late.headers.get('retry-after'), late.headers.get('content-type')]).toEqual([503, '1', 'application/json; charset=utf-8']);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('unavailable');
    // KServe's route says it in the Open Inference Protocol's shape, the code in a header.
    const lateInfer = await postJson(`${url}/v2/models/mnist/infer`, { inputs: [{ name: 'image', shape: [1, PIXELS], datatype: 'FP32', data: digit(2) }] });
    expect([lateInfer.status, lateInfer.headers.get('stratus-error-code')]).toEqual([503, 'unavailable']);
    expect(Object.keys((await lateInfer.json()) as object)).toEqual(['error']);

    const answer = await held;
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { digit: number }).digit).toBe(mnist.labels[0]!);
    expect(await proc.exited).toBe(0);
  } finally {
    proc.kill('SIGKILL');
  }
});

/** Reads `stream` until `marker` appears; what was read. Fails if the stream ends first. */
async function readUntil(stream: ReadableStream<Uint8Array>, marker: string): Promise<string> {
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(marker)) {
    const { done, value } = await reader.read();
    if (done) throw new Error(`the stream ended before "${marker}":\n${text}`);
    text += decoder.decode(value, { stream: true });
  }
  reader.releaseLock();
  return text;
}
