// --backend: wasm always works; tensorflow (tfjs-node, an optional dependency) either runs or, where its
// native part is missing, is refused up front with one line and exit code 2, before any work starts.
import { expect, test } from 'bun:test';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { backendUnavailable } from '../../src/train/training-backend.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

test('--backend tensorflow runs where tfjs-node loads, and is refused in one line where it does not', async () => {
  const problem = await backendUnavailable('tensorflow');
  const args = ['--role', 'trainer', '--backend', 'tensorflow', '--mnist-dir', MNIST_DIR, '--max-samples', '256', '--epochs', '1', '--arch', 'seed', '--port', '0'];
  const { code, stderr } = await runToEnd(['bun', MAIN, ...args, '--out', `${process.env.TMPDIR ?? '/tmp'}/stratus-backend-${crypto.randomUUID()}`]);
  if (problem) {
    expect(code).toBe(2);
    expect(stderr.trim().split('\n')).toEqual([`stratus: ${problem}`]);
  } else {
    expect(code).toBe(0);
  }
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
