// --backend: wasm always works; tensorflow (tfjs-node, an optional dependency) either runs or, where its
// native part is missing, is refused up front with one line and exit code 2, before any work starts.
import { expect, test } from 'bun:test';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backendUnavailable } from '../../src/train/training-backend.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

// Which of the two tensorflow tests can run is known before they are collected: the other is reported
// as skipped, with the reason, rather than the one test passing on whichever branch this machine takes.
const tensorflowProblem = await backendUnavailable('tensorflow');
const tensorflowArgs = ['--role', 'trainer', '--backend', 'tensorflow', '--mnist-dir', MNIST_DIR, '--max-samples', '256', '--epochs', '1', '--arch', 'seed', '--port', '0'];
const tensorflowOut = () => `${process.env.TMPDIR ?? '/tmp'}/stratus-backend-${crypto.randomUUID()}`;
if (tensorflowProblem) console.warn(`SKIPPED: the --backend tensorflow training run (${tensorflowProblem})`);

test.skipIf(tensorflowProblem !== null)(`--backend tensorflow trains where tfjs-node loads${tensorflowProblem ? ' (skipped: tfjs-node does not load on this machine)' : ''}`, async () => {
  const out = tensorflowOut();
  try {
    const { code, stderr } = await runToEnd(['bun', MAIN, ...tensorflowArgs, '--out', out]);
    // stderr shown only on failure: tfjs-node may print its own notices there on success.
    expect({ code, stderr: code === 0 ? '' : stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8')).backend).toBe('tensorflow');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}, 120_000);

test.skipIf(tensorflowProblem === null)('--backend tensorflow is refused in one line where tfjs-node does not load', async () => {
  const { code, stderr } = await runToEnd(['bun', MAIN, ...tensorflowArgs, '--out', tensorflowOut()]);
  expect(code).toBe(2);
  expect(stderr.trim().split('\n')).toEqual([`stratus: ${tensorflowProblem}`]);
}, 120_000);

test('an unknown backend is a usage error', async () => {
  const { code, stderr } = await runToEnd(['bun', MAIN, 'evaluate', '--backend', 'cuda', '--mnist-dir', MNIST_DIR]);
  expect(code).toBe(2);
  expect(stderr).toContain("'cuda' is not one of onnx|wasm|tensorflow");
});

// The default where ONNX Runtime loads (it does wherever onnxruntime-node installed, as in CI): the
// gradients come from its training graph; --backend wasm keeps tfjs computing them.
test('the trainer trains on ONNX Runtime by default, and on tfjs with --backend wasm; each run says which', async () => {
  const backendOf = async (extra: string[]) => {
    const out = `${process.env.TMPDIR ?? '/tmp'}/stratus-backend-${crypto.randomUUID()}`;
    const args = ['--role', 'trainer', '--mnist-dir', MNIST_DIR, '--max-samples', '256', '--epochs', '1', '--arch', 'lean', '--port', '0', '--out', out, ...extra];
    const { code } = await runToEnd(['bun', MAIN, ...args]);
    expect(code).toBe(0);
    const metadata = JSON.parse(readFileSync(join(out, 'metadata.json'), 'utf8'));
    rmSync(out, { recursive: true, force: true });
    return metadata.backend;
  };
  expect(await backendOf([])).toBe('onnx');
  expect(await backendOf(['--backend', 'wasm'])).toBe('wasm');
}, 120_000);

test('evaluate scores on ONNX Runtime by default, with the same answers as tfjs', async () => {
  const reportOf = async (extra: string[]) => {
    const { code, stdout } = await runToEnd(['bun', MAIN, 'evaluate', '--json', '--mnist-dir', MNIST_DIR, ...extra]);
    expect(code).toBe(0);
    return JSON.parse(stdout);
  };
  const onnx = await reportOf([]);
  const wasm = await reportOf(['--backend', 'wasm']);
  expect([onnx.backend, wasm.backend]).toEqual(['onnx', 'wasm']);
  expect(onnx.confusionMatrix).toEqual(wasm.confusionMatrix);
  expect(Math.abs(onnx.testLoss - wasm.testLoss)).toBeLessThan(1e-4);
}, 120_000);
