// KServe v2 as a client of the protocol speaks it: Triton's HTTP client (tritonclient[http] from PyPI, in
// a virtual environment that .ci/run makes) against a local-mode Stratus, through kserve_client_check.py.
// Health, metadata, readiness, real digits classified, one output asked for, and refusals that reach the
// caller as the client's InferenceServerException carrying the server's own message.
// The Python is STRATUS_KSERVE_PYTHON, else .tmp/kserve-venv/bin/python. Without it the suite is skipped
// with a warning; STRATUS_REQUIRE_KSERVE_CLIENT=1 (CI) turns that into a failure.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadSplit } from '../../src/train/mnist.ts';
import { VERSION } from '../../src/version.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { startLocal } from '../helpers/local-stratus.ts';
import { REPO } from '../helpers/process.ts';

const PIXELS = 784;
const PYTHON = process.env.STRATUS_KSERVE_PYTHON || join(REPO, '.tmp/kserve-venv/bin/python');
const SCRIPT = join(import.meta.dir, 'kserve_client_check.py');
/** The first test digits, a batch the client sends as one [N, 784] tensor. */
const IMAGES = 4;

/** Why the client cannot run here, or null when it can. */
function clientMissing(python: string): string | null {
  if (!existsSync(python)) return `no Python at ${python}`;
  const probe = Bun.spawnSync([python, '-c', 'import tritonclient.http'], { stdout: 'ignore', stderr: 'pipe' });
  if (probe.exitCode !== 0) return `${python} cannot import tritonclient.http (${probe.stderr.toString().trim().split('\n').at(-1)})`;
  return null;
}

const missing = clientMissing(PYTHON);
if (missing !== null) {
  const why = `${missing}; make it with: python3 -m venv .tmp/kserve-venv && .tmp/kserve-venv/bin/pip install 'tritonclient[http]==2.73.0'`;
  if (process.env.STRATUS_REQUIRE_KSERVE_CLIENT === '1') throw new Error(`${why}, but STRATUS_REQUIRE_KSERVE_CLIENT=1`);
  console.warn(`SKIPPED: test/e2e/kserve-client.test.ts needs Triton's HTTP client: ${why}`);
}

interface Refusal {
  status: string;
  message: string;
}

/** What kserve_client_check.py prints: what the client saw, unjudged. */
interface Seen {
  client_version: string;
  live: boolean;
  ready: boolean;
  model_ready: boolean;
  server_metadata: unknown;
  model_metadata: { name: string; inputs: unknown; outputs: { name: string }[] };
  infer: { id: string; model_name: string; output_names: string[]; probabilities: number[][]; probabilities_shape: number[]; digits: number[]; digits_dtype: string };
  digit_only: { output_names: string[]; digits: number[]; probabilities_absent: boolean };
  wrong_shape: Refusal | null;
  unknown_output: Refusal | null;
  binary_defaults: Refusal | null;
}

describe.skipIf(missing !== null)("Triton's HTTP client (tritonclient.http) against a local-mode Stratus", () => {
  let stratus: Awaited<ReturnType<typeof startLocal>>;
  let dir: string;
  beforeAll(async () => {
    stratus = await startLocal();
    dir = await mkdtemp(join(tmpdir(), 'stratus-kserve-'));
  }, 30_000);
  afterAll(async () => {
    await stratus?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('health, metadata and readiness; real digits read right; one output when one is asked for; refusals in its exception with the server\'s message', async () => {
    const mnist = loadSplit(MNIST_DIR, 'test');
    const images = Array.from({ length: IMAGES }, (_, i) => Array.from(mnist.images.subarray(i * PIXELS, (i + 1) * PIXELS)));
    const labels = Array.from(mnist.labels.subarray(0, IMAGES));
    const imagesFile = join(dir, 'images.json');
    await writeFile(imagesFile, JSON.stringify({ images }));

    const proc = Bun.spawn([PYTHON, SCRIPT, stratus.url.replace(/^http:\/\//, ''), imagesFile], { stdout: 'pipe', stderr: 'pipe' });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const seen = JSON.parse(stdout) as Seen;

    expect([seen.live, seen.ready, seen.model_ready]).toEqual([true, true, true]);
    expect(seen.server_metadata).toEqual({ name: 'stratus', version: VERSION, extensions: [] });
    expect(seen.model_metadata).toMatchObject({ name: 'mnist', inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, PIXELS] }] });
    expect(seen.model_metadata.outputs.map((output) => output.name)).toEqual(['probabilities', 'digit']);

    const { infer } = seen;
    expect({ id: infer.id, model: infer.model_name, outputs: infer.output_names }).toEqual({ id: 'kserve-check-1', model: 'mnist', outputs: ['probabilities', 'digit'] });
    expect([infer.probabilities_shape, infer.digits_dtype]).toEqual([[IMAGES, 10], 'int64']);
    expect(infer.digits).toEqual(labels);
    for (const [i, row] of infer.probabilities.entries()) {
      expect(row.reduce((sum, p) => sum + p, 0)).toBeCloseTo(1, 4);
      expect(row.indexOf(Math.max(...row))).toBe(infer.digits[i]!);
    }

    expect(seen.digit_only).toEqual({ output_names: ['digit'], digits: [labels[0]!], probabilities_absent: true });

    // The protocol's error shape, {"error": "<message>"}, is what lets the client hand over the message.
    expect(seen.wrong_shape).toEqual({ status: '422', message: `shape must be [N, ${PIXELS}] with 1 ≤ N ≤ 1024` });
    expect(seen.unknown_output).toEqual({ status: '400', message: 'no output named "logits"; this model\'s outputs are probabilities and digit' });
    expect(seen.binary_defaults).toEqual({ status: '400', message: expect.stringMatching(/^binary tensor data is not supported: /) });
  }, 60_000);
});
