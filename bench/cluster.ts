// Cluster mode against local mode, in one run: gateway + 2 consumers over a real Kafka broker and a
// CouchDB-API server, then the single local process, both loaded the same way (wrk, real MNIST digits).
//
//   bun run bench/cluster.ts [--seconds 15] [--warmup-seconds 60] [--connections 64] [--binary ./stratus]
//                        [--cluster-only] [--cpu-prof-dir DIR]
//
// Uses the services KAFKA_BROKERS / COUCHDB_URL name when both are set (and counts their CPU too when
// STRATUS_SERVICES_DIR names the ops/dev/services run dir that started them); otherwise starts its own with
// ops/dev/services (1 broker, in a run dir of its own) and stops them after. Prints predictions/s,
// p50/p99 and errors per mode, CPU per prediction by process, and the machine's load average.
// Without --binary it runs the source (bun src/main.ts): a built ./stratus may be older than the tree.
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSplit } from '../src/train/mnist.ts';
import { freePort } from '../test/helpers/process.ts';
import { cpuBetween, threadCpu, type ThreadCpu } from './thread-cpu.ts';
import { runWrk, type LoadResult } from './wrk-client.ts';

const REPO = resolve(import.meta.dir, '..');
const { values: flags } = parseArgs({
  options: {
    binary: { type: 'string' },
    seconds: { type: 'string', default: '15' },
    /** Full load before measuring: Bun's JIT threads and the broker's JVM (C2) spend most of their
     * compiling in the first minute, which a steady service does not pay per prediction. */
    'warmup-seconds': { type: 'string', default: '60' },
    connections: { type: 'string', default: '64' },
    mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
    'cluster-only': { type: 'boolean', default: false },
    /** Source runs only: each stratus process writes a markdown CPU profile there when it exits. */
    'cpu-prof-dir': { type: 'string' },
  },
});

interface Proc {
  readonly role: string;
  readonly url: string;
  readonly process: ReturnType<typeof Bun.spawn>;
}

async function waitReady(url: string, timeoutMs: number): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await fetch(`${url}/v2/health/ready`).then((r) => r.ok, () => false))) {
    if (performance.now() > deadline) throw new Error(`${url} not ready within ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}

interface Services {
  readonly kafkaBrokers: string;
  readonly couchdbUrl: string;
  /** Set when this run started them: only then does it bring them down. */
  readonly down: (() => void) | null;
  /** Their processes, when this run started them (their CPU counts too). */
  readonly pids: ReadonlyArray<{ readonly name: string; readonly pid: number }>;
}

async function services(): Promise<Services> {
  const { KAFKA_BROKERS, COUCHDB_URL } = process.env;
  if (KAFKA_BROKERS && COUCHDB_URL) {
    const { STRATUS_SERVICES_DIR } = process.env;
    const pids = STRATUS_SERVICES_DIR ? await servicePids(STRATUS_SERVICES_DIR).catch(() => []) : [];
    return { kafkaBrokers: KAFKA_BROKERS, couchdbUrl: COUCHDB_URL, down: null, pids };
  }
  // A run dir of its own: `up` in a shared one would reuse (and `down` would then stop) someone else's.
  const runDir = await mkdtemp(join(tmpdir(), 'stratus-bench-services-'));
  // The broker with the JVM's full JIT: ops/dev/services stops it at C1 (STRATUS_KAFKA_JVM_OPTS) so that
  // test brokers start fast, but a broker that serves for hours runs C2-compiled code, which after the
  // warm-up spent ~40 % less CPU per prediction here (157 against ~260 µs). Serial GC: two cores.
  const env = { STRATUS_KAFKA_JVM_OPTS: '-Xms512m -Xmx1g -XX:+UseSerialGC', ...process.env, STRATUS_SERVICES_DIR: runDir };
  const script = join(REPO, 'ops/dev/services');
  const up = Bun.spawnSync([script, 'up', '--owner-pid', String(process.pid)], { env, stderr: 'inherit' });
  const down = () => void Bun.spawnSync([script, 'down'], { env, stderr: 'inherit' });
  if (up.exitCode !== 0) {
    down();
    throw new Error('ops/dev/services up failed');
  }
  const vars = new Map<string, string>();
  for (const line of up.stdout.toString().split('\n')) {
    const match = line.match(/^([A-Z_]+)=(.*)$/);
    if (match) vars.set(match[1] as string, match[2] as string);
  }
  const pids = await servicePids(runDir);
  return { kafkaBrokers: vars.get('KAFKA_BROKERS') ?? '', couchdbUrl: vars.get('COUCHDB_URL') ?? '', down, pids };
}

/** The broker and CouchDB processes an ops/dev/services run dir records. */
async function servicePids(runDir: string): Promise<Services['pids']> {
  const state = (await Bun.file(join(runDir, 'state.json')).json()) as { brokers: { id: number; pid: number }[]; couchdb: { pid: number } };
  return [...state.brokers.map((b) => ({ name: `kafka-${b.id}`, pid: b.pid })), { name: 'couchdb', pid: state.couchdb.pid }];
}

/** This environment without what would configure stratus behind its flags' back. */
function cleanEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value !== undefined && !/^(STRATUS_|KAFKA_BROKERS$|COUCHDB_)/.test(name)) env[name] = value;
  }
  return env;
}

/** wrk is one client at full speed, and this measures what the service can do, not what one client may:
 * the per-client API rate (100/s by default) is lifted. */
const CAPACITY_FLAGS = ['--rate-limit', 'api=off'];

async function start(command: string[], role: string, args: string[]): Promise<Proc> {
  const port = freePort();
  const process_ = Bun.spawn([...command, '--role', role, '--port', String(port), '--log-level', 'warn', ...args], {
    env: cleanEnv(),
    stdout: 'inherit',
    stderr: 'inherit',
  });
  return { role, url: `http://127.0.0.1:${port}`, process: process_ };
}

function report(mode: string, result: LoadResult, cpu: Map<string, number>, threads: Map<string, [string, number][]>): void {
  const { latencyMs: l } = result;
  const perPrediction = (seconds: number) => `${((seconds / Math.max(1, result.ok)) * 1e6).toFixed(0)} µs`;
  console.log(
    `${mode.padEnd(8)} ${result.rate.toFixed(0)} predictions/s, p50 ${l.p50} ms, p99 ${l.p99} ms, max ${l.max} ms, ` +
      `${result.ok} ok, ${result.errors} errors`,
  );
  console.log(`         cpu per prediction: ${[...cpu].map(([name, s]) => `${name} ${perPrediction(s)}`).join(', ')}, wrk ${perPrediction(result.clientCpuSeconds)}`);
  for (const [name, busiest] of threads) {
    console.log(`         ${name} threads: ${busiest.slice(0, 4).map(([thread, s]) => `${thread} ${perPrediction(s)}`).join(', ')}`);
  }
}

async function measure(mode: string, procs: Proc[], gatewayUrl: string, bodies: string[], others: Services['pids'] = []): Promise<void> {
  const seconds = Number(flags.seconds);
  const connections = Number(flags.connections);
  // Warm-up: JIT, Kafka partitions assigned, connections open, batches at their steady size.
  await runWrk(gatewayUrl, connections, Number(flags['warmup-seconds']), bodies);
  const watched = [...procs.map((p, i) => ({ name: `${p.role}#${i}`, pid: p.process.pid, ours: true })), ...others.map((o) => ({ ...o, ours: false }))];
  const sample = () => new Map<string, ThreadCpu>(watched.map((w) => [w.name, threadCpu(w.pid)]));
  const before = sample();
  const result = await runWrk(gatewayUrl, connections, seconds, bodies);
  const after = sample();
  const cpu = new Map<string, number>();
  const threads = new Map<string, [string, number][]>();
  for (const w of watched) {
    const spent = cpuBetween(before.get(w.name) ?? new Map(), after.get(w.name) ?? new Map());
    cpu.set(w.name, spent.reduce((sum, [, s]) => sum + s, 0));
    if (w.ours) threads.set(w.name, spent);
  }
  report(mode, result, cpu, threads);
}

/** A sum or count line of the process's /metrics (0 when absent). */
function metricValue(text: string, name: string): number {
  const match = text.match(new RegExp(`^${name.replace(/[{}"]/g, '\\$&')} ([\\d.e+-]+)$`, 'm'));
  return match ? Number(match[1]) : 0;
}

/** Requests per message at the gateway, images per model call and ms per store call, since the process
 * started (warm-up included): these decide what each process pays per prediction. */
async function printConsumerStages(procs: Proc[]): Promise<void> {
  for (const [i, p] of procs.entries()) {
    const text = await fetch(`${p.url}/metrics`).then((r) => r.text(), () => '');
    if (p.role === 'gateway') {
      const messages = metricValue(text, 'stratus_requests_per_message_count');
      const requests = metricValue(text, 'stratus_requests_per_message_sum');
      console.log(`         gateway#${i}: ${(requests / Math.max(1, messages)).toFixed(1)} requests per message`);
    }
    if (p.role !== 'consumer') continue;
    const calls = metricValue(text, 'stratus_batch_size_count');
    const images = metricValue(text, 'stratus_batch_size_sum');
    const stores = metricValue(text, 'stratus_stage_duration_seconds_count{stage="store"}');
    const storeSeconds = metricValue(text, 'stratus_stage_duration_seconds_sum{stage="store"}');
    console.log(
      `         consumer#${i}: ${(images / Math.max(1, calls)).toFixed(1)} images per model call, ` +
        `${((storeSeconds / Math.max(1, stores)) * 1000).toFixed(1)} ms per store call (wall)`,
    );
  }
}

/** In order, each one gone before the next: the gateway drains while the consumers still answer. */
async function stopAll(procs: Proc[]): Promise<void> {
  for (const p of procs) {
    p.process.kill('SIGTERM');
    await p.process.exited;
  }
}

async function main(): Promise<void> {
  const mnist = loadSplit(flags.mnist as string, 'test');
  const bodies = Array.from({ length: 256 }, (_, i) =>
    JSON.stringify({ pixels: Array.from(mnist.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) }),
  );
  const profile = flags['cpu-prof-dir'] ? ['--cpu-prof-md', `--cpu-prof-dir=${resolve(flags['cpu-prof-dir'])}`] : [];
  const command = flags.binary ? [resolve(flags.binary)] : [process.execPath, ...profile, join(REPO, 'src/main.ts')];
  const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`stratus under test: ${command.join(' ')}; ${navigator.hardwareConcurrency} cores; ${flags.connections} connections, ${flags.seconds} s, wrk`);
  console.log(`load average at start: ${load()}`);

  const cluster = await services();
  try {
    const prefix = `bench_${Date.now()}_`;
    const clusterFlags = [
      '--transport', 'kafka', '--kafka-brokers', cluster.kafkaBrokers,
      '--store', 'couchdb', '--couchdb-url', cluster.couchdbUrl, '--couchdb-prefix', prefix,
    ];
    // Consumers first: the gateway is ready once a consumer has announced its model.
    const consumers = [await start(command, 'consumer', clusterFlags), await start(command, 'consumer', clusterFlags)];
    const gateway = await start(command, 'gateway', [...clusterFlags, ...CAPACITY_FLAGS]);
    const procs = [gateway, ...consumers];
    try {
      await Promise.all(procs.map((p) => waitReady(p.url, 60_000)));
      await measure('cluster', procs, gateway.url, bodies, cluster.pids);
      await printConsumerStages(procs);
    } finally {
      await stopAll(procs);
    }
    if (flags['cluster-only']) return;

    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-bench-'));
    const local = await start(command, 'all', ['--data-dir', dataDir, ...CAPACITY_FLAGS]);
    try {
      await waitReady(local.url, 30_000);
      await measure('local', [local], local.url, bodies);
    } finally {
      await stopAll([local]);
      await rm(dataDir, { recursive: true, force: true });
    }
  } finally {
    cluster.down?.();
    console.log(`load average at end: ${load()}`);
  }
}

await main();
