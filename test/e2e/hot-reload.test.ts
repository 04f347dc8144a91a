// The model registry end to end, through a real `--role all` process on the on-disk store: publishing a
// version while predictions stream (zero failures, every answer names the version that produced it),
// refusing broken versions, rolling back, a restart serving the store's choice, and the trainer
// publishing through the gateway. The versions are real models: the default one with its weights
// nudged (so it still reads digits), and two broken ones (weights cut short; weights all zero).
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { loadSplit, type MnistSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { MAIN, REPO, childEnv, freePort } from '../helpers/process.ts';
import { issuedSessions } from '../helpers/sessions.ts';
import { waitFor } from '../helpers/wait.ts';

const PIXELS = 784;
const TOKEN = `admin-${crypto.randomUUID()}`;
const AUTH = { authorization: `Bearer ${TOKEN}` };
const MODEL_JSON = JSON.parse(readFileSync(resolve(REPO, 'models/embedded/model.json'), 'utf8')) as object;
const DEFAULT_WEIGHTS = new Uint8Array(readFileSync(resolve(REPO, 'models/embedded/weights.bin')));

/** The default model's weights, each scaled by a seeded factor in 1 ± 2 %: a different model that still reads digits. */
function nudgedWeights(seed: number): Uint8Array {
  const weights = new Float32Array(DEFAULT_WEIGHTS.slice().buffer);
  let state = seed;
  for (let i = 0; i < weights.length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    weights[i] = (weights[i] as number) * (1 + 0.04 * (state / 2 ** 32 - 0.5));
  }
  return new Uint8Array(weights.buffer);
}

interface Stratus {
  readonly url: string;
  readonly proc: Bun.Subprocess<'ignore', 'pipe', 'pipe'>;
  /** Everything it printed so far (pino JSON lines and stderr). */
  output(): string;
}

async function startStratus(dataDir: string): Promise<Stratus & { readyAfterMs: number }> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn(['bun', MAIN, '--role', 'all', '--port', String(port), '--data-dir', dataDir], {
    cwd: REPO,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
    env: childEnv({ STRATUS_LOG_LEVEL: 'warn', STRATUS_ADMIN_TOKEN: TOKEN }),
  });
  let printed = '';
  // Read both streams as they come, so a chatty process never blocks on a full pipe.
  for (const stream of [proc.stdout, proc.stderr]) {
    void (async () => {
      const reader = stream.getReader();
      for (let read = await reader.read(); !read.done; read = await reader.read()) printed += new TextDecoder().decode(read.value);
    })();
  }
  const url = `http://127.0.0.1:${port}`;
  await waitFor(async () => {
    if (proc.exitCode !== null) throw new Error(`exited with ${proc.exitCode}: ${printed}`);
    return fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false);
  }, 20_000);
  return { url, proc, output: () => printed, readyAfterMs: performance.now() - started };
}

async function stopStratus(stratus: Stratus | undefined): Promise<void> {
  if (!stratus || stratus.proc.exitCode !== null) return;
  stratus.proc.kill('SIGTERM');
  await stratus.proc.exited;
}

function publish(url: string, version: string, weights: Uint8Array, headers: Record<string, string> = AUTH, modelJson: object = MODEL_JSON): Promise<Response> {
  const body = { version, metrics: { note: 'hot-reload test' }, modelJson, weightsBase64: Buffer.from(weights).toString('base64') };
  return postJson(`${url}/api/models`, body, headers);
}

async function reloads(url: string, outcome: string): Promise<number> {
  return sampleOf(await (await fetch(`${url}/metrics`)).text(), `stratus_model_reloads_total{outcome="${outcome}"}`);
}

interface Answer {
  readonly status: number;
  readonly version?: string;
  readonly digit?: number;
}

/** `session` (a Cookie the gateway issued) makes the request one user's among many: the gateway limits each client's rate. */
async function predict(url: string, mnist: MnistSplit, i: number, session?: string): Promise<Answer> {
  const pixels = Array.from(mnist.images.subarray(i * PIXELS, (i + 1) * PIXELS));
  const response = await postJson(`${url}/api/predict`, { pixels }, session ? { cookie: session } : {});
  if (response.status !== 200) return { status: response.status };
  const body = (await response.json()) as { digit: number; model: { version: string } };
  return { status: 200, version: body.model.version, digit: body.digit };
}

async function servingVersion(url: string): Promise<string> {
  return ((await (await fetch(`${url}/v2/models/mnist`)).json()) as { serving: string }).serving;
}

// One process through a story: the tests run in order and each starts where the previous one left it.
describe('model registry with hot reload', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-hot-reload-'));
  let mnist: MnistSplit;
  let stratus: Awaited<ReturnType<typeof startStratus>> | undefined;
  let embedded: string;
  const v2 = `nudged-a-${Date.now()}`;
  const v3 = `nudged-b-${Date.now()}`;

  beforeAll(async () => {
    mnist = loadSplit(MNIST_DIR, 'test');
    stratus = await startStratus(dataDir);
    embedded = await servingVersion(stratus.url);
  }, 30_000);
  afterAll(async () => {
    await stopStratus(stratus);
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('a version published while predictions stream takes over with zero failed requests', async () => {
    const { url } = stratus!;
    const answers: (Answer & { label: number; sentAt: number; receivedAt: number })[] = [];
    const giveUpAt = performance.now() + 30_000;
    let stopAt = Infinity;
    // Eight connections at full speed carry the requests of 64 users (~15 a second each, within one
    // client's rate): the load of many people, not one client's flood.
    const users = await issuedSessions(url, 64);
    const client = async (first: number) => {
      for (let i = first; performance.now() < Math.min(stopAt, giveUpAt); i = (i + 8) % 1000) {
        const sentAt = performance.now();
        const answer = await predict(url, mnist, i, users[i % 64]).catch(() => ({ status: 0 }));
        answers.push({ ...answer, label: mnist.labels[i] as number, sentAt, receivedAt: performance.now() });
      }
    };
    const clients = Array.from({ length: 8 }, (_, k) => client(k));
    // Publish into a running stream: once the old version has answered a good many.
    await waitFor(() => answers.filter((a) => a.status === 200).length >= 200, 20_000);
    const published = await publish(url, v2, nudgedWeights(1));
    expect(published.status).toBe(201);
    // The answer comes once a consumer serves it: it says so.
    expect(await published.json()).toEqual({ version: v2, state: 'serving' });
    await waitFor(() => answers.some((a) => a.version === v2), 20_000);
    const switchedAt = Math.min(...answers.filter((a) => a.version === v2).map((a) => a.receivedAt));
    stopAt = performance.now() + 1_500;
    await Promise.all(clients);

    const byVersion = (version: string) => answers.filter((a) => a.version === version);
    const after = answers.filter((a) => a.sentAt > switchedAt);
    console.log(
      `hot reload under load: ${answers.length} requests, ${byVersion(embedded).length} by ${embedded}, ` +
        `${byVersion(v2).length} by ${v2}, ${answers.filter((a) => a.status !== 200).length} failed`,
    );
    expect(answers.filter((a) => a.status !== 200)).toEqual([]);
    expect(new Set(answers.map((a) => a.version))).toEqual(new Set([embedded, v2]));
    expect(after.length).toBeGreaterThan(50);
    expect(after.filter((a) => a.version !== v2)).toEqual([]);
    // Both versions really classified: each reads the digits it was sent.
    for (const version of [embedded, v2]) {
      const mine = byVersion(version);
      expect(mine.filter((a) => a.digit === a.label).length / mine.length).toBeGreaterThan(0.95);
    }
    expect(await reloads(url, 'loaded')).toBe(1);
    const meta = (await (await fetch(`${url}/v2/models/mnist`)).json()) as { versions: string[]; serving: string };
    expect(meta).toMatchObject({ serving: v2, versions: [v2, embedded] });
  }, 60_000);

  test('versions that cannot load are refused at publish, those that fail the smoke check by the consumer; the serving one stays', async () => {
    const { url } = stratus!;
    const truncated = `truncated-${Date.now()}`;
    const huge = `huge-${Date.now()}`;
    const zeroed = `zeroed-${Date.now()}`;
    // Weights that do not fill the shapes the model declares, or shapes far beyond its weights: refused
    // before they are stored, so no consumer ever builds them (a huge one would take it past its memory).
    const refusedTruncated = await publish(url, truncated, DEFAULT_WEIGHTS.subarray(0, DEFAULT_WEIGHTS.length - 4096));
    expect(refusedTruncated.status).toBe(422);
    expect(await refusedTruncated.json()).toMatchObject({ error: { code: 'model_refused', message: expect.stringContaining(`weights.bin holds ${DEFAULT_WEIGHTS.length - 4096} bytes`) } });
    const declaringHuge = structuredClone(MODEL_JSON) as { modelTopology: { config: { layers: { class_name: string; config: { filters?: number } }[] } } };
    const firstConv = declaringHuge.modelTopology.config.layers.find((layer) => layer.class_name === 'Conv2D')!;
    firstConv.config.filters = 1_000_000_000;
    const refusedHuge = await publish(url, huge, DEFAULT_WEIGHTS, AUTH, declaringHuge);
    expect(refusedHuge.status).toBe(422);
    expect(await refusedHuge.json()).toMatchObject({ error: { code: 'model_refused', message: expect.stringContaining('1000000000]') } });
    expect(await reloads(url, 'load_failed')).toBe(0);
    expect(stratus!.proc.exitCode).toBeNull();
    expect((await predict(url, mnist, 0)).version).toBe(v2);

    const refusedZeroed = await publish(url, zeroed, new Uint8Array(DEFAULT_WEIGHTS.length));
    expect(await refusedZeroed.json()).toMatchObject({ version: zeroed, state: 'refused', reason: expect.stringMatching(/^smoke_failed: /) });
    expect(await reloads(url, 'smoke_failed')).toBe(1);
    const states = (await (await fetch(`${url}/api/models`)).json()) as { serving: string; versions: { version: string; state: string }[] };
    expect(states.serving).toBe(v2);
    expect(states.versions.filter((v) => v.state === 'serving').map((v) => v.version)).toEqual([v2]);
    expect(states.versions.filter((v) => v.state === 'refused').map((v) => v.version)).toEqual([zeroed]);
    expect(states.versions.map((v) => v.version)).not.toContain(truncated);
    expect(states.versions.map((v) => v.version)).not.toContain(huge);
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => predict(url, mnist, i)));
    expect(answers.every((a) => a.status === 200 && a.version === v2)).toBe(true);
    expect(await servingVersion(url)).toBe(v2);
    expect(await reloads(url, 'loaded')).toBe(1);
    const refusals = stratus!.output().split('\n').filter((line) => line.includes('model version refused'));
    expect(refusals.some((line) => line.includes(zeroed) && line.includes('smoke_failed'))).toBe(true);
  }, 60_000);

  test('rollback: any stored version can be served again', async () => {
    const { url } = stratus!;
    expect((await publish(url, v3, nudgedWeights(2))).status).toBe(201);
    await waitFor(async () => (await predict(url, mnist, 1)).version === v3, 20_000);

    const rollback = await postJson(`${url}/api/models/${v2}/serve`, {}, AUTH);
    expect(rollback.status).toBe(202);
    expect(await rollback.json()).toEqual({ version: v2, state: 'serving' });
    await waitFor(async () => (await predict(url, mnist, 2)).version === v2, 20_000);
    expect(await servingVersion(url)).toBe(v2);

    const registry = (await (await fetch(`${url}/api/models`)).json()) as { serving: string; selected: string; versions: { version: string; metrics?: object }[] };
    expect(registry.serving).toBe(v2);
    expect(registry.selected).toBe(v2);
    expect(registry.versions.map((v) => v.version)).toEqual([v3, expect.stringMatching(/^zeroed-/), v2, embedded]);
    expect(registry.versions[0]?.metrics).toEqual({ note: 'hot-reload test' });
  }, 60_000);

  test('admin endpoints refuse a wrong token, an unknown version and a duplicate', async () => {
    const { url } = stratus!;
    const wrong = { authorization: 'Bearer not-the-token' };
    const cases: [Promise<Response>, number, string][] = [
      [publish(url, 'sneaky', nudgedWeights(3), wrong), 401, 'unauthorized'],
      [publish(url, 'sneaky', nudgedWeights(3), {}), 401, 'unauthorized'],
      // The token is checked before the body: a caller without it learns nothing about the schema.
      [postJson(`${url}/api/models`, { nonsense: true }, wrong), 401, 'unauthorized'],
      [postJson(`${url}/api/models/${v3}/serve`, {}, wrong), 401, 'unauthorized'],
      [postJson(`${url}/api/models/no-such-version/serve`, {}, AUTH), 404, 'unknown_version'],
      [publish(url, v2, nudgedWeights(3)), 409, 'version_exists'],
      [postJson(`${url}/api/models`, { version: 'bad', modelJson: {}, weightsBase64: 'AAAA' }, AUTH), 422, 'invalid_body'],
      [postJson(`${url}/api/models`, { version: '../etc', modelJson: MODEL_JSON, weightsBase64: 'AAAA' }, AUTH), 422, 'invalid_body'],
    ];
    for (const [response, status, code] of cases) {
      const answer = await response;
      expect(answer.status).toBe(status);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe(code);
    }
    expect((await (await fetch(`${url}/api/models`)).json()) as object).toMatchObject({ selected: v2 });
    expect(stratus!.output()).not.toContain(TOKEN);
  }, 30_000);

  test('a restarted process serves the store’s serving version from its first answer', async () => {
    await stopStratus(stratus);
    expect(stratus!.proc.exitCode).toBe(0);
    stratus = await startStratus(dataDir);
    console.log(`restart to ready, serving a stored version: ${stratus.readyAfterMs.toFixed(0)} ms`);
    expect((await predict(stratus.url, mnist, 3)).version).toBe(v2);
    expect(await servingVersion(stratus.url)).toBe(v2);
    expect(await reloads(stratus.url, 'loaded')).toBe(1);
  }, 60_000);

  test('the trainer publishes its model through the gateway (--publish-url)', async () => {
    const { url } = stratus!;
    const out = mkdtempSync(join(tmpdir(), 'stratus-published-'));
    try {
      const trainer = Bun.spawn(
        ['bun', MAIN, '--role', 'trainer', '--port', '0', '--mnist-dir', MNIST_DIR, '--arch', 'seed', '--epochs', '1', '--max-samples', '3000', '--out', out, '--publish-url', url],
        { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', env: childEnv({ STRATUS_LOG_LEVEL: 'warn', STRATUS_ADMIN_TOKEN: TOKEN }) },
      );
      const [stdout, stderr, code] = await Promise.all([new Response(trainer.stdout).text(), new Response(trainer.stderr).text(), trainer.exited]);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).not.toContain(TOKEN);
      const registry = (await (await fetch(`${url}/api/models`)).json()) as { selected: string; versions: { version: string; metrics?: { testAccuracy?: number } }[] };
      const published = registry.versions[0];
      expect(published?.version).toMatch(/^seed-\d{8}-\d{6}$/);
      expect(registry.selected).toBe(published!.version);
      expect(published?.metrics?.testAccuracy).toBeGreaterThan(0.85);
      await waitFor(async () => (await predict(url, mnist, 4)).version === published!.version, 20_000);
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 300_000);
});

test('the trainer publishes into the store itself (--publish); the next start serves that version, and the embedded model is the way back', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-publish-store-'));
  const out = join(dataDir, 'model');
  let stratus: Stratus | undefined;
  try {
    const trainer = Bun.spawn(
      ['bun', MAIN, '--role', 'trainer', '--port', '0', '--mnist-dir', MNIST_DIR, '--arch', 'seed', '--epochs', '1', '--max-samples', '3000', '--out', out, '--data-dir', dataDir, '--publish'],
      { cwd: REPO, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: childEnv({ STRATUS_LOG_LEVEL: 'warn' }) },
    );
    const [stderr, code] = await Promise.all([new Response(trainer.stderr).text(), trainer.exited]);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // The version went into the store with the model.onnx the trainer wrote, byte for byte.
    const written = readFileSync(join(out, 'model.onnx'));
    const store = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
    await store.open();
    const [stored] = await store.listModels();
    const files = await store.loadModel(stored!.version);
    await store.close();
    expect(files?.modelOnnx && Buffer.from(files.modelOnnx).equals(written)).toBe(true);
    stratus = await startStratus(dataDir);
    const registry = (await (await fetch(`${stratus.url}/api/models`)).json()) as { selected: string; serving: string; versions: { version: string }[] };
    // The published version, and the embedded one stored beside it at the server's start.
    expect(registry.versions.map((v) => v.version)).toEqual([registry.selected, expect.stringMatching(/^lean-/)]);
    expect(registry.selected).toMatch(/^seed-\d{8}-\d{6}$/);
    expect(registry.serving).toBe(registry.selected);
    const mnist = loadSplit(MNIST_DIR, 'test');
    expect((await predict(stratus.url, mnist, 0)).version).toBe(registry.selected);

    // The way back: the embedded model is a rollback target like any other, and stays chosen on restart.
    const embedded = registry.versions[1]!.version;
    const back = await postJson(`${stratus.url}/api/models/${embedded}/serve`, {}, AUTH);
    expect(back.status).toBe(202);
    expect(await back.json()).toEqual({ version: embedded, state: 'serving' });
    expect((await predict(stratus.url, mnist, 1)).version).toBe(embedded);
    await stopStratus(stratus);
    stratus = await startStratus(dataDir);
    expect((await predict(stratus.url, mnist, 2)).version).toBe(embedded);
  } finally {
    await stopStratus(stratus);
    rmSync(dataDir, { recursive: true, force: true });
  }
}, 300_000);

test('without STRATUS_ADMIN_TOKEN the admin endpoints are off (403)', async () => {
  const stratus = await startLocal();
  try {
    const answer = await publish(stratus.url, 'any', DEFAULT_WEIGHTS);
    expect(answer.status).toBe(403);
    expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('admin_disabled');
    expect((await postJson(`${stratus.url}/api/models/any/serve`, {}, AUTH)).status).toBe(403);
    // Reading the registry needs no token.
    expect(await (await fetch(`${stratus.url}/api/models`)).json()).toMatchObject({ selected: null, versions: [{ version: expect.stringMatching(/^lean-/), state: 'serving' }] });
  } finally {
    await stratus.stop();
  }
}, 30_000);
