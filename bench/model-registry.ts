// The model registry's costs, measured from outside on the on-disk store:
//   start-to-ready with the embedded model, start-to-ready when the store names a serving version
//   (read from the store, loaded in a worker, smoke-checked), and publish-to-switch (POST /api/models
//   until the first answer by the new version) while one client keeps predicting.
//
//   bun run bench/model-registry.ts [--binary ./stratus] [--runs 3]
//
// Uses the compiled binary if it exists, else the sources under Bun.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { freePort } from '../test/helpers/process.ts';

const REPO = resolve(import.meta.dir, '..');
const { values: flags } = parseArgs({
  options: { binary: { type: 'string', default: join(REPO, 'stratus') }, runs: { type: 'string', default: '3' } },
});
const command = existsSync(flags.binary as string) ? [flags.binary as string] : ['bun', join(REPO, 'src/main.ts')];
const TOKEN = crypto.randomUUID();
const modelJson = JSON.parse(readFileSync(join(REPO, 'models/embedded/model.json'), 'utf8')) as object;
const weightsBase64 = readFileSync(join(REPO, 'models/embedded/weights.bin')).toString('base64');
const pixels = new Array(784).fill(0);

async function start(dataDir: string): Promise<{ url: string; proc: Bun.Subprocess; readyMs: number }> {
  const port = freePort();
  const started = performance.now();
  const proc = Bun.spawn([...command, '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn'], {
    stdout: 'ignore',
    stderr: 'inherit',
    env: { ...process.env, STRATUS_ADMIN_TOKEN: TOKEN },
  });
  const url = `http://127.0.0.1:${port}`;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`stratus exited with ${proc.exitCode}`);
    if (await fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false)) break;
    await Bun.sleep(2);
  }
  return { url, proc, readyMs: performance.now() - started };
}

async function stop(proc: Bun.Subprocess): Promise<void> {
  proc.kill('SIGTERM');
  await proc.exited;
}

const post = (url: string, body: unknown) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` }, body: JSON.stringify(body) });

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
const embeddedReady: number[] = [];
const storedReady: number[] = [];
const switchMs: number[] = [];
for (let run = 0; run < Number(flags.runs); run++) {
  const dataDir = mkdtempSync(join(tmpdir(), 'stratus-bench-registry-'));
  try {
    const first = await start(dataDir);
    embeddedReady.push(first.readyMs);
    let latest = '';
    let predicting = true;
    const client = (async () => {
      while (predicting) {
        const answer = (await (await post(`${first.url}/api/predict`, { pixels })).json()) as { model: { version: string } };
        latest = answer.model.version;
      }
    })();
    const version = `bench-${run}-${Date.now()}`;
    const published = performance.now();
    const response = await post(`${first.url}/api/models`, { version, modelJson, weightsBase64 });
    if (response.status !== 201) throw new Error(`publish answered ${response.status}`);
    while (latest !== version) await Bun.sleep(1);
    switchMs.push(performance.now() - published);
    predicting = false;
    await client;
    await stop(first.proc);
    const second = await start(dataDir);
    storedReady.push(second.readyMs);
    await stop(second.proc);
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
const show = (values: number[]) => `median ${median(values).toFixed(0)} ms (${values.map((v) => v.toFixed(0)).join(', ')})`;
console.log(`${command.join(' ')}, ${flags.runs} runs`);
console.log(`start to ready, embedded model:          ${show(embeddedReady)}`);
console.log(`start to ready, store's serving version: ${show(storedReady)}`);
console.log(`publish to first answer by the new one:  ${show(switchMs)}`);
