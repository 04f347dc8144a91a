// Local-mode throughput and latency, measured from outside with autocannon (a separate Node process).
//
//   bun run bench/local.ts [--binary ./stratus] [--seconds 15] [--connections 64,1000] [--args='--max-batch 32']
//                          [--client wrk|autocannon]
//
// Starts Stratus (the compiled binary if it exists, else the sources under Bun) with the on-disk store,
// measures start-to-ready, then POSTs real MNIST test digits to /api/predict at each connection count
// and prints predictions/s, latency percentiles, errors, and CPU per prediction by thread (server and
// load generator). --args passes flags to stratus (to compare batching settings, for instance). The load
// generator is wrk where installed (Debian's `wrk`), else autocannon.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSplit } from '../src/train/mnist.ts';
import { freePort } from '../test/helpers/process.ts';
import { cpuBetween, followProcessCpu, threadCpu } from './thread-cpu.ts';
import { runWrk, type LoadResult } from './wrk-client.ts';

const REPO = resolve(import.meta.dir, '..');
const { values: flags } = parseArgs({
  options: {
    binary: { type: 'string', default: join(REPO, 'stratus') },
    seconds: { type: 'string', default: '15' },
    connections: { type: 'string', default: '64,1000' },
    args: { type: 'string', default: '' },
    mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
    client: { type: 'string', default: Bun.which('wrk') ? 'wrk' : 'autocannon' },
  },
});
const seconds = Number(flags.seconds);

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number; average: number };
  errors: number;
  timeouts: number;
  non2xx: number;
  '2xx': number;
}

async function autocannon(url: string, connections: number, duration: number, bodies: string[]): Promise<LoadResult> {
  // One request body per connection-cycle is plenty to vary the digits; autocannon takes a JSON array of requests.
  const requestsFile = join(tmpdir(), `stratus-bench-${crypto.randomUUID()}.json`);
  await Bun.write(requestsFile, JSON.stringify(bodies.map((body) => ({ method: 'POST', path: '/api/predict', body }))));
  const script = `
    const autocannon = require('autocannon');
    const requests = require(${JSON.stringify(requestsFile)});
    autocannon({ url: ${JSON.stringify(url)}, connections: ${connections}, duration: ${duration}, timeout: 30,
      headers: { 'content-type': 'application/json' }, requests }, (err, res) => {
      if (err) { console.error(err); process.exit(1); }
      process.stdout.write(JSON.stringify(res));
    });`;
  const proc = Bun.spawn(['node', '-e', script], { cwd: REPO, stdout: 'pipe', stderr: 'inherit' });
  const clientCpu = followProcessCpu(proc.pid);
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const clientCpuSeconds = clientCpu();
  await rm(requestsFile, { force: true });
  const result = JSON.parse(out) as AutocannonResult;
  return {
    rate: result.requests.average,
    ok: result['2xx'],
    errors: result.errors + result.timeouts + result.non2xx,
    latencyMs: result.latency,
    clientCpuSeconds,
  };
}

type Buckets = Map<string, Map<number, number>>;

/** The cumulative histogram buckets of every stage, read from /metrics. */
async function stageBuckets(url: string): Promise<Buckets> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const buckets: Buckets = new Map();
  for (const match of text.matchAll(/^stratus_stage_duration_seconds_bucket\{le="([^"]+)",stage="([^"]+)"\} (\d+)/gm)) {
    const [, le, stage, count] = match as unknown as [string, string, string, string];
    if (!buckets.has(stage)) buckets.set(stage, new Map());
    buckets.get(stage)!.set(le === '+Inf' ? Infinity : Number(le), Number(count));
  }
  return buckets;
}

/** Upper bound of the bucket holding quantile q of what was observed between two readings. */
function quantileMs(before: Buckets, after: Buckets, stage: string, q: number): string {
  const a = after.get(stage);
  if (!a) return 'n/a';
  const b = before.get(stage) ?? new Map<number, number>();
  const bounds = [...a.keys()].sort((x, y) => x - y);
  const total = (a.get(Infinity) ?? 0) - (b.get(Infinity) ?? 0);
  for (const le of bounds) {
    if ((a.get(le) ?? 0) - (b.get(le) ?? 0) >= q * total) return le === Infinity ? '>10000' : `≤${le * 1000}`;
  }
  return 'n/a';
}

async function main(): Promise<void> {
  const mnist = loadSplit(flags.mnist as string, 'test');
  const bodies = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({ pixels: Array.from(mnist.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) }),
  );
  const binary = flags.binary as string;
  const useBinary = await Bun.file(binary).exists();
  const command = useBinary ? [binary] : [process.execPath, join(REPO, 'src/main.ts')];
  const dataDir = await mkdtemp(join(tmpdir(), 'stratus-bench-'));
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const started = performance.now();
  // The load generator is one client at full speed, and this measures what the service can do, not what
  // one client may: the per-client API rate (100/s by default) is lifted; --args can set it back.
  const extra = ['--rate-limit', 'api=off', ...(flags.args as string).split(' ').filter(Boolean)];
  const proc = Bun.spawn([...command, '--port', String(port), '--data-dir', dataDir, '--log-level', 'warn', ...extra], {
    stdout: 'inherit',
    stderr: 'inherit',
  });
  let readyMs = 0;
  for (;;) {
    const ok = await fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false);
    if (ok) break;
    if (performance.now() - started > 20_000) throw new Error('not ready within 20 s');
    await Bun.sleep(2);
  }
  readyMs = performance.now() - started;

  try {
    const load = flags.client === 'wrk' ? runWrk : autocannon;
    console.log(
      `stratus under test: ${useBinary ? binary : 'sources under bun'} ${extra.join(' ')}; on-disk store; ` +
        `${navigator.hardwareConcurrency} cores; load generator ${flags.client}`,
    );
    console.log(`start to ready: ${readyMs.toFixed(0)} ms`);
    await load(url, 16, 3, bodies); // warm-up
    for (const connections of (flags.connections as string).split(',').map(Number)) {
      const before = await stageBuckets(url);
      const cpuBefore = threadCpu(proc.pid);
      const result = await load(url, connections, seconds, bodies);
      const cpuAfter = threadCpu(proc.pid);
      const after = await stageBuckets(url);
      const { latencyMs: latency } = result;
      console.log(
        `${String(connections).padStart(5)} connections, ${seconds} s: ${result.rate.toFixed(0)} predictions/s, ` +
          `p50 ${latency.p50} ms, p90 ${latency.p90} ms, p99 ${latency.p99} ms, max ${latency.max} ms, ` +
          `${result.ok} ok, ${result.errors} errors`,
      );
      // Server-side view, from the process's own histograms: where a request's time goes.
      const stages = ['queue_wait', 'inference', 'store', 'total'].map(
        (stage) => `${stage} p50 ${quantileMs(before, after, stage, 0.5)} ms, p99 ${quantileMs(before, after, stage, 0.99)} ms`,
      );
      console.log(`        server side: ${stages.join('; ')}`);
      // CPU per prediction by thread: the budget that 2 cores must cover at the target rate.
      const perPrediction = (cpuSeconds: number) => `${((cpuSeconds / Math.max(1, result.ok)) * 1e6).toFixed(0)} µs`;
      const threads = cpuBetween(cpuBefore, cpuAfter).filter(([, s]) => s >= 0.05);
      const serverTotal = threads.reduce((sum, [, s]) => sum + s, 0);
      console.log(
        `        cpu per prediction: server ${perPrediction(serverTotal)} (${threads.map(([name, s]) => `${name} ${perPrediction(s)}`).join(', ')}); ` +
          `load generator ${perPrediction(result.clientCpuSeconds)}`,
      );
    }
  } finally {
    proc.kill('SIGTERM');
    await proc.exited;
    await rm(dataDir, { recursive: true, force: true });
  }
}

await main();
