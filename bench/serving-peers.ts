// Stratus's serving against the Python peer a user would pick instead: BentoML serving the same model (the
// embedded model's ONNX export) with ONNX Runtime and adaptive batching (bench/peers/bentoml_service.py, in
// a venv this makes under .tmp/ from PyPI). Interleaved, peer then us, every run printed, then medians and
// ratios. Not part of CI; run it on a quiet machine.
//
//   bun run bench/serving-peers.ts [--rounds 2] [--seconds 15] [--connections 64[,1000]] [--binary ./stratus] [--mnist DIR]
//                                  [--json FILE]
//
// --connections takes a list: each server, once started and warmed up, takes a run at each in turn.
// --json FILE: every run (round, server, connections, figures or error) as ServingResults.
// Both get the same load from wrk: POSTs of real MNIST test digits to /api/predict, after the same warm-up.
// Stratus runs local mode on the in-memory store with --rate-limit api=off: its default per-client limit
// (api=100/200) would turn one load generator's excess into 429s, and BentoML has no such limit.
// CPU per request: user+sys over the load, of the Stratus process (all threads), and of BentoML's whole
// process tree (its arbiter and its workers, which are child processes), from /proc.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { exportToOnnx } from '../src/model/onnx/export-onnx.ts';
import { readEmbeddedModel } from '../src/model/model-source.ts';
import { loadSplit } from '../src/train/mnist.ts';
import { childEnv, freePort, MAIN, startProcess } from '../test/helpers/process.ts';
import { benchFlagErrors } from './cli-errors.ts';
import { errorSummary, writeJsonResults } from './json-results.ts';
import { pythonVenv } from './python-venv.ts';
import { median } from './stats.ts';
import { threadCpu } from './thread-cpu.ts';
import { runWrk, type LoadResult } from './wrk-client.ts';

const REPO = resolve(import.meta.dir, '..');
const { fail, positive } = benchFlagErrors('bench/serving-peers');
const flags = (() => {
  try {
    return parseArgs({
      options: {
        rounds: { type: 'string', default: '2' },
        seconds: { type: 'string', default: '15' },
        connections: { type: 'string', default: '64' },
        binary: { type: 'string' },
        mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
        json: { type: 'string' },
      },
    }).values;
  } catch (error) {
    return fail((error as Error).message.replaceAll('\n', ' '));
  }
})();
const rounds = positive('rounds', flags.rounds);
const seconds = positive('seconds', flags.seconds);
const connectionCounts = flags.connections!.split(',').map((text) => positive('connections', text));
const VENV = '.tmp/peers-bentoml-venv';
const binary = flags.binary === undefined ? null : resolve(flags.binary);
if (binary && !existsSync(binary)) fail(`--binary ${flags.binary} does not exist`);

/** A process and its descendants, from the parent links in /proc: BentoML's workers are processes. */
function processTree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // ended while listed
    }
  }
  const tree = [root];
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []));
  return tree;
}

/** CPU seconds of a process tree, each process's own stat (which keeps the time of its ended threads). */
function treeCpuSeconds(root: number): number {
  let seconds = 0;
  for (const pid of processTree(root)) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      seconds += (Number(fields[11]) + Number(fields[12])) / 100; // USER_HZ, as thread-cpu.ts
    } catch {
      // ended
    }
  }
  return seconds;
}

interface Server {
  readonly url: string;
  readonly cpuSeconds: () => number;
  readonly stop: () => Promise<void>;
}

async function startBentoml(python: string, modelPath: string): Promise<Server> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const env = childEnv({ STRATUS_ONNX_MODEL: modelPath, BENTOML_HOME: join(REPO, VENV, 'bentoml-home'), BENTOML_DO_NOT_TRACK: 'true' });
  const proc = Bun.spawn([python, '-m', 'bentoml', 'serve', 'bentoml_service:DigitGateway', '--host', '127.0.0.1', '--port', String(port)], {
    cwd: join(REPO, 'bench/peers'),
    env,
    stdin: 'ignore',
    stdout: 'ignore',
    stderr: 'pipe',
  });
  const stderr = new Response(proc.stderr).text();
  const stop = async () => {
    const tree = processTree(proc.pid);
    proc.kill('SIGTERM');
    await proc.exited;
    // Its arbiter stops the workers; any it left behind are ended here, by pid, if still BentoML's.
    for (const pid of tree.slice(1)) {
      try {
        if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('bentoml')) process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  };
  for (const started = performance.now(); ; await Bun.sleep(100)) {
    if (proc.exitCode !== null) throw new Error(`bentoml serve exited ${proc.exitCode}:\n${(await stderr).trim().split('\n').slice(-15).join('\n')}`);
    if (await fetch(`${url}/readyz`).then((r) => r.ok, () => false)) break;
    if (performance.now() - started > 60_000) {
      await stop();
      throw new Error('bentoml serve not ready within 60 s');
    }
  }
  return { url, cpuSeconds: () => treeCpuSeconds(proc.pid), stop };
}

async function startStratus(): Promise<Server> {
  const command = binary ? [binary] : [process.execPath, MAIN];
  const { url, proc } = await startProcess(command, ['--store', 'memory', '--log-level', 'warn', '--rate-limit', 'api=off'], { readyTimeoutMs: 30_000 });
  const cpuSeconds = () => [...threadCpu(proc.pid).values()].reduce((sum, s) => sum + s, 0);
  const stop = async () => {
    proc.kill('SIGTERM');
    await proc.exited;
  };
  return { url, cpuSeconds, stop };
}

export interface Run {
  readonly who: string;
  readonly connections: number;
  readonly load: LoadResult;
  readonly cpuMicrosPerRequest: number;
}

/** What --json writes: every run in the order it ran, a failed one with its error. */
export interface ServingResults {
  readonly seconds: number;
  readonly rounds: number;
  readonly connections: readonly number[];
  readonly versions: { readonly bentoml: string; readonly stratus: string };
  readonly runs: readonly { readonly round: number; readonly who: string; readonly connections: number; readonly run?: Run; readonly error?: string }[];
}

/** One server started and warmed up, then a run of `seconds` at each number of connections. */
async function measure(who: string, start: () => Promise<Server>, bodies: readonly string[], onRun: (connections: number, run: Run | Error) => void): Promise<void> {
  const server = await start();
  try {
    await runWrk(server.url, 16, 2, bodies); // warm-up: JIT, the batchers' estimates, connection set-up
    for (const connections of connectionCounts) {
      try {
        const before = server.cpuSeconds();
        const load = await runWrk(server.url, connections, seconds, bodies);
        const cpu = server.cpuSeconds() - before;
        onRun(connections, { who, connections, load, cpuMicrosPerRequest: (cpu / Math.max(1, load.ok)) * 1e6 });
      } catch (error) {
        onRun(connections, error as Error);
      }
    }
  } finally {
    await server.stop();
  }
}

const python = await pythonVenv(VENV, 'bench/peers/requirements-bentoml.txt');
const versions = Bun.spawnSync([python, '-c', 'import bentoml, onnxruntime, numpy, sys; print(f"bentoml {bentoml.__version__}, onnxruntime {onnxruntime.__version__}, numpy {numpy.__version__}, python {sys.version.split()[0]}")']);
const work = mkdtempSync(join(tmpdir(), 'stratus-serving-peers-'));
const modelPath = join(work, 'model.onnx');
await Bun.write(modelPath, exportToOnnx(await readEmbeddedModel()).bytes);
const test = loadSplit(flags.mnist!, 'test');
const bodies = Array.from({ length: 256 }, (_, i) =>
  JSON.stringify({ pixels: Array.from(test.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) }),
);

console.log(
  `POST /api/predict, ${connectionCounts.join(' and ')} connections, ${seconds} s a run, ${rounds} round(s), wrk; ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}\n` +
    `  bentoml: ${versions.stdout.toString().trim()}, workers gateway ${process.env.BENTO_GATEWAY_WORKERS ?? 1} / model ${process.env.BENTO_MODEL_WORKERS ?? 1}\n` +
    `  stratus: ${binary ?? 'sources'} under bun ${Bun.version}, --store memory --rate-limit api=off`,
);
const ledger: ServingResults['runs'][number][] = [];
try {
  for (let round = 1; round <= rounds; round++) {
    // Peer, us, peer, us: a drift in the machine's speed then touches both sides alike.
    for (const [who, start] of [['bentoml', () => startBentoml(python, modelPath)], ['stratus', startStratus]] as const) {
      const label = (connections: number) => `round ${round}/${rounds}  ${who.padEnd(8)} ${String(connections).padStart(5)} connections`;
      const failed = (connections: number, error: Error) => {
        console.log(`${label(connections)} FAILED: ${error.message}`);
        ledger.push({ round, who, connections, error: errorSummary(error) });
        process.exitCode = 1;
      };
      try {
        await measure(who, start, bodies, (connections, run) => {
          if (run instanceof Error) return failed(connections, run);
          ledger.push({ round, who, connections, run });
          const { rate, latencyMs, ok, errors } = run.load;
          console.log(
            `${label(connections)} ${rate.toFixed(0)} req/s | p50 ${latencyMs.p50} ms, p99 ${latencyMs.p99} ms | ${ok} ok, ${errors} non-2xx or socket errors | ` +
              `server CPU ${run.cpuMicrosPerRequest.toFixed(0)} µs/request`,
          );
        });
      } catch (error) {
        // The server did not start (or stop): every run it would have taken this round failed with it.
        for (const connections of connectionCounts) if (!ledger.some((r) => r.round === round && r.who === who && r.connections === connections)) failed(connections, error as Error);
      }
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}

await writeJsonResults(flags.json, {
  seconds,
  rounds,
  connections: connectionCounts,
  versions: { bentoml: versions.stdout.toString().trim(), stratus: `${binary ?? 'sources'} under bun ${Bun.version}, --store memory --rate-limit api=off` },
  runs: ledger,
} satisfies ServingResults);

const runs = ledger.flatMap((entry) => (entry.run ? [entry.run] : []));
const summary = (who: string, connections: number) => {
  const mine = runs.filter((run) => run.who === who && run.connections === connections);
  if (!mine.length) return null;
  const of = (figure: (run: Run) => number) => median(mine.map(figure));
  return { runs: mine.length, rate: of((r) => r.load.rate), p50: of((r) => r.load.latencyMs.p50), p99: of((r) => r.load.latencyMs.p99), errors: of((r) => r.load.errors), cpu: of((r) => r.cpuMicrosPerRequest) };
};
for (const connections of connectionCounts) {
  const [peer, us] = [summary('bentoml', connections), summary('stratus', connections)];
  console.log(`\nmedians, ${connections} connections`);
  console.log('| server | runs | req/s | p50 ms | p99 ms | errors | CPU µs / request |');
  console.log('|---|---|---|---|---|---|---|');
  for (const [who, m] of [['bentoml', peer], ['stratus', us]] as const) {
    if (m) console.log(`| ${who} | ${m.runs} | ${m.rate.toFixed(0)} | ${m.p50} | ${m.p99} | ${m.errors} | ${m.cpu.toFixed(0)} |`);
  }
  if (peer && us) {
    const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    console.log('Stratus / BentoML (req/s above 1: Stratus serves more; latency and CPU below 1: Stratus is quicker, cheaper)');
    console.log(`req/s ${ratio(us.rate, peer.rate)} | p50 ${ratio(us.p50, peer.p50)} | p99 ${ratio(us.p99, peer.p99)} | CPU per request ${ratio(us.cpu, peer.cpu)}`);
  }
}
