// The trainer's command line as a user runs it: `stratus evaluate`, `--download`, `--augment`, report.json.
import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MNIST_MD5 } from '../../src/train/mnist-download.ts';
import type { EvaluationReport, TrainingReport } from '../../src/train/report.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, freePort, runToEnd } from '../helpers/process.ts';

const bun = process.execPath;
const stratus = (...args: string[]) => runToEnd([bun, MAIN, ...args]);
const TEST_MD5 = { 't10k-images-idx3-ubyte.gz': MNIST_MD5['t10k-images-idx3-ubyte.gz'], 't10k-labels-idx1-ubyte.gz': MNIST_MD5['t10k-labels-idx1-ubyte.gz'] };

const dirs: string[] = [];
const tempDir = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'stratus-train-cli-'));
  dirs.push(dir);
  return dir;
};
afterAll(() => Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true }))));

/** A loopback MNIST mirror serving the shared files, one of them corrupted if asked. */
function mirror(corrupt: string | null = null) {
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      const name = new URL(request.url).pathname.split('/').pop() ?? '';
      if (!(name in MNIST_MD5)) return new Response('not found', { status: 404 });
      const bytes = new Uint8Array(await Bun.file(join(MNIST_DIR, name)).arrayBuffer());
      if (name === corrupt) bytes[100]! ^= 1;
      return new Response(bytes);
    },
  });
  return { url: `http://127.0.0.1:${server.port}/`, [Symbol.dispose]: () => server.stop(true) };
}

describe('bad arguments: one line on stderr, exit 2', () => {
  test.each([
    [['evaluate', '--port', '3000']],
    [['evaluate', '--mnist-dir', '/nonexistent/mnist']],
    [['evaluate', '--mnist-dir', MNIST_DIR, '--model', '/nonexistent/model']],
    [['evaluate', 'extra']],
    [['--role', 'trainer', '--augment=maybe']],
    [['--role', 'trainer', '--download', '--mnist-url', 'ftp://example.org/mnist/']],
  ])('%p', async (args) => {
    const { code, stderr, stdout } = await stratus(...args);
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toStartWith('stratus: ');
    expect(stdout).toBe('');
  });

  test('a missing MNIST file is named, with the flag that would fetch it', async () => {
    const { code, stderr } = await stratus('--role', 'trainer', '--mnist-dir', await tempDir());
    expect(code).toBe(2);
    expect(stderr).toBe(`stratus: --mnist-dir: no train-images-idx3-ubyte(.gz) in ${dirs.at(-1)} (add --download to fetch it)\n`);
  });
});

test('--help lists evaluate and the new trainer flags', async () => {
  const { code, stdout } = await stratus('--help');
  expect(code).toBe(0);
  for (const text of ['stratus evaluate --mnist-dir DIR', '--download', '--mnist-url', '--augment', '--json']) expect(stdout).toContain(text);
});

test('evaluate scores the embedded model and prints the report with --json', async () => {
  const json = await stratus('evaluate', '--mnist-dir', MNIST_DIR, '--json');
  expect(json.stderr).toBe('');
  expect(json.code).toBe(0);
  const report = JSON.parse(json.stdout) as EvaluationReport;
  expect(report).toMatchObject({ kind: 'stratus-evaluation', testSamples: 10000, model: { source: 'embedded' }, data: { md5: TEST_MD5 } });
  expect(report.testAccuracy).toBeGreaterThan(0.98);
  expect(report.confusionMatrix.flat().reduce((a, b) => a + b, 0)).toBe(10000);
  expect(report.confusionMatrix.reduce((sum, row, d) => sum + row[d]!, 0) / 10000).toBe(report.testAccuracy);
}, 120_000);

test('evaluate needs only the test split: it runs on a directory without the training files, and --download fetches only the test files', async () => {
  const testOnly = await tempDir();
  for (const name of Object.keys(TEST_MD5)) await Bun.write(join(testOnly, name), Bun.file(join(MNIST_DIR, name)));
  const run = await stratus('evaluate', '--mnist-dir', testOnly, '--json');
  expect(run.stderr).toBe('');
  expect(run.code).toBe(0);
  expect((JSON.parse(run.stdout) as EvaluationReport).testSamples).toBe(10000);

  using server = mirror();
  const empty = await tempDir();
  const fetched = await stratus('evaluate', '--mnist-dir', empty, '--download', '--mnist-url', server.url, '--json');
  expect(fetched.code).toBe(0);
  expect((await readdir(empty)).sort()).toEqual(Object.keys(TEST_MD5).sort());
}, 120_000);

test('--download fetches into an empty --mnist-dir, then the trainer writes report.json that evaluate agrees with', async () => {
  using server = mirror();
  const mnistDir = join(await tempDir(), 'mnist');
  const out = join(await tempDir(), 'model');
  const args = ['--role', 'trainer', '--mnist-dir', mnistDir, '--download', '--mnist-url', server.url];
  const trained = await stratus(...args, '--arch', 'seed', '--epochs', '2', '--max-samples', '500', '--augment', '--out', out, '--port', String(freePort()));
  expect(trained.stderr).toBe('');
  expect(trained.code).toBe(0);
  expect((await readdir(mnistDir)).sort()).toEqual(Object.keys(MNIST_MD5).sort());

  // Not a terminal: JSON log lines only, per file downloaded and per epoch.
  expect(trained.stdout).not.toContain('\r');
  const lines = trained.stdout.trim().split('\n').map((line) => JSON.parse(line) as { msg: string; epoch?: number });
  expect(lines.filter((line) => line.msg === 'MNIST file downloaded')).toHaveLength(4);
  expect(lines.filter((line) => line.msg === 'epoch finished').map((line) => line.epoch)).toEqual([1, 2]);

  const report = (await Bun.file(join(out, 'report.json')).json()) as TrainingReport;
  expect(report.hyperParameters).toMatchObject({ augment: true, epochs: 2, maxSamples: 500 });
  expect(report.data.md5).toEqual(MNIST_MD5);
  expect(report.history.map((epoch) => epoch.epoch)).toEqual([1, 2]);
  expect((await Bun.file(join(out, 'metadata.json')).json()) as object).toMatchObject({ augment: true, testAccuracy: report.testAccuracy });

  const evaluated = await stratus('evaluate', '--mnist-dir', mnistDir, '--model', out, '--json');
  expect(evaluated.code).toBe(0);
  const evaluation = JSON.parse(evaluated.stdout) as EvaluationReport;
  expect(evaluation.model).toEqual({ version: report.modelVersion, source: out });
  expect(evaluation.testAccuracy).toBe(report.testAccuracy);
  expect(evaluation.confusionMatrix).toEqual(report.confusionMatrix);
  expect(evaluation.testLoss).toBeCloseTo(report.testLoss, 3);

  // Without --json: a table with the same figures.
  const table = await stratus('evaluate', `--mnist-dir=${mnistDir}`, `--model=${out}`);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`test accuracy ${(report.testAccuracy * 100).toFixed(2)} %`);
  const rows = table.stdout.split('\n').filter((line) => /^ {2}\d: /.test(line));
  expect(rows).toHaveLength(10);
  expect(rows[7]).toContain(`${(report.perClassAccuracy[7]! * 100).toFixed(2)} %`);
  expect(rows[7]!.trim().split(/\s+/).slice(1, 11).map(Number)).toEqual(report.confusionMatrix[7]!);
}, 180_000);

test('a corrupt download fails the trainer with one line naming the file, and keeps nothing of it', async () => {
  using server = mirror('train-labels-idx1-ubyte.gz');
  const mnistDir = await tempDir();
  const { code, stderr } = await stratus('--role', 'trainer', '--mnist-dir', mnistDir, '--download', '--mnist-url', server.url, '--out', join(mnistDir, 'model'), '--port', String(freePort()));
  expect(code).toBe(1);
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^stratus: training failed: .*train-labels-idx1-ubyte\.gz has md5 [0-9a-f]{32}, expected d53e105ee54ea40749a09fcbcd1e9432/);
  expect(await readdir(mnistDir)).toEqual(['train-images-idx3-ubyte.gz']);
}, 60_000);
