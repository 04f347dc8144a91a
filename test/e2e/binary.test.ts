// Builds the binary the way `bun run build` does, then runs a copy of it ALONE in an empty directory:
// anything it still loads from node_modules or the repo fails here. Each start gets an empty TMPDIR of
// its own too, where the binary writes what must live on disk (onnxruntime's library).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { chmod, copyFile, mkdir, mkdtemp, readdir, rm, stat } from 'node:fs/promises';
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
/** Where the binary puts onnxruntime's library under a TMPDIR (src/embedded/extract-file.ts). */
const privateName = `stratus-${process.getuid?.() ?? 'user'}`;

/** An empty TMPDIR inside the run directory, removed with it. */
const freshTmp = () => mkdtemp(join(runDir, 'tmp-'));

/** The engine /metrics says serves: the stratus_inference_engine series at 1. */
async function servingEngine(url: string): Promise<string | undefined> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return /^stratus_inference_engine\{engine="(\w+)"\} 1$/m.exec(text)?.[1];
}

async function stopped(running: Started): Promise<{ code: number; stdout: string }> {
  running.proc.kill('SIGTERM');
  const [code, stdout] = await Promise.all([running.proc.exited, new Response(running.proc.stdout).text()]);
  return { code, stdout };
}

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

  test.each([[['--port', '-1']], [['--engine', 'tpu']]])('a bad flag %p: one line on stderr, exit code 2', async (args) => {
    const { code, stderr } = await runToEnd([binary, ...args], { cwd: runDir });
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
  });

  test('starts, reads real MNIST digits with its embedded model on onnxruntime, keeps data in ./stratus-data, stops on SIGTERM', async () => {
    const tmp = await freshTmp();
    const running = await startProcess([binary], [], { cwd: runDir, env: { TMPDIR: tmp } });
    started.push(running);
    expect(await servingEngine(running.url)).toBe('onnx');
    // The library the addon needs, written where the dynamic linker can read it: one folder, named by its content.
    const [folder, ...others] = await readdir(join(tmp, privateName));
    expect(others).toEqual([]);
    expect(await readdir(join(tmp, privateName, folder as string))).toEqual(['libonnxruntime.so.1']);
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

  test('copies starting at once on an empty TMPDIR all serve on onnxruntime, from one whole copy of its library', async () => {
    const tmp = await freshTmp();
    const copies = await Promise.all(Array.from({ length: 3 }, () => startProcess([binary], ['--store', 'memory'], { cwd: runDir, env: { TMPDIR: tmp } })));
    started.push(...copies);
    for (const copy of copies) expect(await servingEngine(copy.url)).toBe('onnx');
    const [folder] = await readdir(join(tmp, privateName));
    expect(await readdir(join(tmp, privateName, folder as string))).toEqual(['libonnxruntime.so.1']);
    for (const copy of copies) expect((await stopped(copy)).code).toBe(0);
  }, 30_000);

  describe('where onnxruntime cannot load (its directory under TMPDIR is open to others)', () => {
    const unsafeTmp = async () => {
      const tmp = await freshTmp();
      await mkdir(join(tmp, privateName));
      await chmod(join(tmp, privateName), 0o777);
      return tmp;
    };

    test('by default it serves on wasm, and says why in one warning', async () => {
      const running = await startProcess([binary], ['--store', 'memory'], { cwd: runDir, env: { TMPDIR: await unsafeTmp() } });
      started.push(running);
      expect(await servingEngine(running.url)).toBe('wasm');
      const pixels = new Array(784).fill(0);
      expect((await postJson(`${running.url}/api/predict`, { pixels })).status).toBe(200);
      const { code, stdout } = await stopped(running);
      expect(code).toBe(0);
      // Logged at warn level and above: the fallback is the one line.
      const warnings = stdout.trim().split('\n').map((line) => JSON.parse(line) as { level: number; engine?: string; reason?: string; msg: string });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: 40, engine: 'wasm', reason: expect.stringContaining('is not private to this user') });
    }, 30_000);

    test('--engine onnx is an error: one line saying why, exit code 2', async () => {
      const { code, stderr, stdout } = await runToEnd([binary, '--engine', 'onnx', '--store', 'memory', '--port', '0'], { cwd: runDir, env: { TMPDIR: await unsafeTmp() } });
      expect(code).toBe(2);
      expect(stderr.trim().split('\n')).toHaveLength(1);
      expect(stderr).toStartWith('stratus: engine onnx was asked for, but ONNX Runtime does not load:');
      expect(stderr).toContain('is not private to this user');
      expect(stdout).toBe('');
    });
  });
});
