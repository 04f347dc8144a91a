// --backend: wasm always works; tensorflow (tfjs-node, an optional dependency) either runs or, where its
// native part is missing, is refused up front with one line and exit code 2, before any work starts.
import { expect, test } from 'bun:test';
import { tensorflowUnavailable } from '../../src/train/training-backend.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

test('--backend tensorflow runs where tfjs-node loads, and is refused in one line where it does not', async () => {
  const problem = await tensorflowUnavailable();
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
  expect(stderr).toContain("'cuda' is not one of wasm|tensorflow");
});
