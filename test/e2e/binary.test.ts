// Builds the binary the way `bun run build` does, then runs a copy of it ALONE in an empty directory:
// anything it still loads from node_modules or the repo fails here.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { copyFile, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkg from '../../package.json' with { type: 'json' };
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson } from '../helpers/local-stratus.ts';
import { REPO, runToEnd, startProcess, type Started } from '../helpers/process.ts';

let buildDir = '';
let runDir = '';
let binary = '';
const started: Started[] = [];

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), 'stratus-build-'));
  runDir = await mkdtemp(join(tmpdir(), 'stratus-run-'));
  const outfile = join(buildDir, 'stratus');
  const build = await runToEnd([process.execPath, 'run', 'scripts/build.ts', '--outfile', outfile], { cwd: REPO });
  if (build.code !== 0) throw new Error(`build failed (${build.code}):\n${build.stdout}\n${build.stderr}`);
  binary = join(runDir, 'stratus');
  await copyFile(outfile, binary);
  await Bun.$`chmod +x ${binary}`;
  await rm(buildDir, { recursive: true, force: true });
}, 240_000);

afterAll(async () => {
  for (const { proc } of started) proc.kill();
  await Promise.all(started.map(({ proc }) => proc.exited));
  await rm(runDir, { recursive: true, force: true });
});

describe('the compiled binary, alone in an empty directory', () => {
  test('--version prints the package version', async () => {
    const { code, stdout } = await runToEnd([binary, '--version'], { cwd: runDir });
    expect(stdout.trim()).toBe(pkg.version);
    expect(code).toBe(0);
  });

  test('--help exits 0', async () => {
    const { code, stdout } = await runToEnd([binary, '--help'], { cwd: runDir });
    expect(stdout).toContain('--port');
    expect(code).toBe(0);
  });

  test('a bad flag: one line on stderr, exit code 2', async () => {
    const { code, stderr } = await runToEnd([binary, '--port', '-1'], { cwd: runDir });
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  test('starts, reads real MNIST digits with its embedded model, keeps data in ./stratus-data, stops on SIGTERM', async () => {
    const running = await startProcess([binary], [], { cwd: runDir });
    started.push(running);
    const mnist = loadSplit(MNIST_DIR, 'test');
    let correct = 0;
    for (let i = 0; i < 50; i++) {
      const pixels = Array.from(mnist.images.subarray(i * 784, (i + 1) * 784));
      const response = await postJson(`${running.url}/api/predict`, { pixels });
      expect(response.status).toBe(200);
      if (((await response.json()) as { digit: number }).digit === mnist.labels[i]) correct++;
    }
    expect(correct).toBeGreaterThanOrEqual(49);
    expect((await stat(join(runDir, 'stratus-data'))).isDirectory()).toBe(true);
    running.proc.kill('SIGTERM');
    expect(await running.proc.exited).toBe(0);
  }, 30_000);
});
