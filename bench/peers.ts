// Stratus's trainer against the Python peers on the seed recipe, on this machine: Keras (model.fit) and
// the seed paper's own pipeline, Elephas on Spark local[2] (bench/peers/*.py, each in a venv it makes
// under .tmp/ from PyPI). Interleaved, peer then us, every run printed, then medians and ratios.
// Not part of CI: the full default (2 rounds of 10 epochs) takes some 10–20 minutes on 2 cores; run it on a
// quiet machine.
//
//   bun run bench/peers.ts [--rounds 2] [--epochs 10] [--max-samples N] [--workers 2] [--peers keras,elephas]
//                          [--stratus-args='--backend wasm'] [--mnist DIR] [--parts training,inference,serving]
//                          [--json FILE]
//
// --json FILE: the training pairs' results (every run in order, failures too) as PeersTrainingResults.
// --parts: the training pairs are this script's; `inference` then runs bench/inference.ts --peer (ONNX
// Runtime's Python API against Stratus, CPU per image) and `serving` bench/serving-peers.ts (BentoML against
// Stratus, requests/s), each with --rounds, as their own scripts print them. All three by default.
//
// Every contender trains on the same 54,000 images (a seeded 10 % hold-out of the 60,000) and scores the
// 10,000 test images. Training seconds: the epochs' training steps, per-epoch validation excluded.
// Wall: the whole process, timed from here (start-up, imports, MNIST, training, scoring, and for Stratus
// writing the model). CPU: each contender's line says what it counted.
// Batch size 64 is per worker step: Stratus with --workers 2 averages the gradients of two batches of 64
// a step, Elephas trains each of its two partitions with batches of 64 and averages the weights an epoch.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { benchFlagErrors, type BenchFlagErrors } from './cli-errors.ts';
import { errorSummary, writeJsonResults } from './json-results.ts';
import { pythonVenv } from './python-venv.ts';
import { median } from './stats.ts';

const REPO = resolve(import.meta.dir, '..');
const flagErrors = benchFlagErrors('bench/peers');
const fail: BenchFlagErrors['fail'] = flagErrors.fail;
const positive = flagErrors.positive;

const OPTIONS = {
  rounds: { type: 'string', default: '2' },
  epochs: { type: 'string', default: '10' },
  'max-samples': { type: 'string' },
  workers: { type: 'string', default: '2' },
  peers: { type: 'string', default: 'keras,elephas' },
  // Its value starts with a dash, which parseArgs takes only as --stratus-args='--backend wasm'.
  'stratus-args': { type: 'string', default: '' },
  mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
  parts: { type: 'string', default: 'training,inference,serving' },
  json: { type: 'string' },
} as const;
const flags = (() => {
  try {
    return parseArgs({ options: OPTIONS }).values;
  } catch (error) {
    return fail((error as Error).message.replaceAll('\n', ' '));
  }
})();

/** Each peer's venv of its own: Elephas pins an older TensorFlow and numpy than the Keras peer's. */
const PEERS = {
  keras: { venv: '.tmp/peers-train-venv', requirements: 'bench/peers/requirements-train.txt', script: 'bench/peers/keras_train.py' },
  elephas: { venv: '.tmp/peers-elephas-venv', requirements: 'bench/peers/requirements-elephas.txt', script: 'bench/peers/elephas_train.py' },
} as const;
type PeerName = keyof typeof PEERS;

const rounds = positive('rounds', flags.rounds);
const epochs = positive('epochs', flags.epochs);
const maxSamples = flags['max-samples'] === undefined ? null : positive('max-samples', flags['max-samples']);
const workerCounts = flags.workers!.split(',').map((text) => positive('workers', text));
const peers = flags.peers!.split(',').filter(Boolean) as PeerName[];
for (const peer of peers) if (!(peer in PEERS)) fail(`--peers must list keras and/or elephas, got ${peer}`);
const stratusArgs = flags['stratus-args']!.split(/\s+/).filter(Boolean);
const mnist = flags.mnist!;
const PARTS = ['training', 'inference', 'serving'] as const;
const parts = new Set(flags.parts!.split(',').filter(Boolean));
for (const part of parts) if (!(PARTS as readonly string[]).includes(part)) fail(`--parts must list ${PARTS.join(', ')}, got ${part}`);

/** The pairs other scripts measure, each printing its own runs, medians and ratios. */
async function otherParts(): Promise<void> {
  const binary = join(REPO, 'stratus');
  const commands = {
    inference: ['bun', 'run', 'bench/inference.ts', '--peer', '--rounds', String(rounds), '--batches', '1,64,256'],
    serving: ['bun', 'run', 'bench/serving-peers.ts', '--rounds', String(rounds), ...(existsSync(binary) ? ['--binary', binary] : [])],
  };
  for (const part of ['inference', 'serving'] as const) {
    if (!parts.has(part)) continue;
    console.log(`\n== ${part}: ${commands[part].join(' ')}`);
    const code = await Bun.spawn(commands[part], { cwd: REPO, stdout: 'inherit', stderr: 'inherit' }).exited;
    if (code !== 0) process.exitCode = 1;
  }
}
if (!parts.has('training')) {
  await otherParts();
  process.exit();
}

export interface Run {
  readonly who: string;
  readonly trainSamples: number;
  readonly trainSeconds: number;
  readonly wallSeconds: number;
  readonly testAccuracy: number;
  readonly cpuMsPer1000Samples: number;
}
const samplesPerSecond = (run: Run) => (run.trainSamples * epochs) / run.trainSeconds;

/** Spawns `command`, hands each stdout line to `onLine` as it comes; stderr is shown only if it fails. */
async function runLines(command: string[], onLine: (line: string, pid: number) => void): Promise<number> {
  const started = performance.now();
  const child = Bun.spawn(command, { cwd: REPO, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' });
  const errors = new Response(child.stderr).text();
  const decoder = new TextDecoder();
  let rest = '';
  const reader = child.stdout.getReader();
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    rest += decoder.decode(read.value, { stream: true });
    for (let end = rest.indexOf('\n'); end >= 0; end = rest.indexOf('\n')) {
      onLine(rest.slice(0, end), child.pid);
      rest = rest.slice(end + 1);
    }
  }
  if (rest) onLine(rest, child.pid);
  const code = await child.exited;
  const wallSeconds = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`${command.slice(0, 3).join(' ')} … exited ${code}:\n${(await errors).trim().split('\n').slice(-15).join('\n')}`);
  return wallSeconds;
}

const peerVersions = new Map<PeerName, string>();
const cpuCounted = new Map<string, string>();

/** The one JSON line a peer script prints at the end. */
interface PeerLine {
  readonly trainSamples: number;
  readonly trainSeconds: number;
  readonly testAccuracy: number;
  readonly cpuMsPer1000Samples: number;
  readonly cpuCounted: string;
  readonly [version: string]: unknown;
}

async function runPeer(peer: PeerName, python: string): Promise<Run> {
  const args = [mnist, String(epochs), ...(maxSamples === null ? [] : [String(maxSamples)])];
  const lines: PeerLine[] = [];
  const wallSeconds = await runLines([python, join(REPO, PEERS[peer].script), ...args], (line) => {
    if (line.startsWith('{')) lines.push(JSON.parse(line) as PeerLine);
  });
  const result = lines.at(-1);
  if (!result) throw new Error(`${peer} printed no result line`);
  peerVersions.set(peer, ['tensorflow', 'keras', 'elephas', 'pyspark'].filter((name) => result[name]).map((name) => `${name} ${result[name]}`).join(', '));
  cpuCounted.set(peer, result.cpuCounted);
  const { trainSamples, trainSeconds, testAccuracy, cpuMsPer1000Samples } = result;
  return { who: peer, trainSamples, trainSeconds, wallSeconds, testAccuracy, cpuMsPer1000Samples };
}

const CLOCK_TICKS = Number(Bun.spawnSync(['getconf', 'CLK_TCK']).stdout.toString()) || 100;
/** user + system CPU seconds of a live process, all its threads (the trainer's workers are threads). */
function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

async function runStratus(workers: number): Promise<Run> {
  const out = mkdtempSync(join(tmpdir(), 'stratus-peers-'));
  const who = `stratus w${workers}`;
  cpuCounted.set(who, "user+sys of the trainer process (all threads), read from /proc at 'training started' and the last 'epoch finished': the epoch loop, per-epoch validation included");
  const command = ['bun', 'src/main.ts', '--role', 'trainer', '--arch', 'seed', '--epochs', String(epochs), '--workers', String(workers),
    '--mnist-dir', mnist, '--out', out, '--port', '0', '--store', 'memory', ...(maxSamples === null ? [] : ['--max-samples', String(maxSamples)]), ...stratusArgs];
  let trainSamples = 0;
  let trainSeconds = 0;
  let testAccuracy = Number.NaN;
  let cpuAtStart = 0;
  let cpuAtEnd = 0;
  try {
    const wallSeconds = await runLines(command, (line, pid) => {
      if (!line.startsWith('{')) return;
      const entry = JSON.parse(line) as { msg?: string; trainSamples?: number; seconds?: number; testAccuracy?: number };
      if (entry.msg === 'training started') {
        cpuAtStart = processCpuSeconds(pid);
        trainSamples = entry.trainSamples!;
      } else if (entry.msg === 'epoch finished') {
        cpuAtEnd = processCpuSeconds(pid);
        trainSeconds += entry.seconds!;
      } else if (entry.msg === 'training finished') testAccuracy = entry.testAccuracy!;
    });
    const cpuMsPer1000Samples = ((cpuAtEnd - cpuAtStart) * 1e6) / (trainSamples * epochs);
    return { who, trainSamples, trainSeconds, wallSeconds, testAccuracy, cpuMsPer1000Samples };
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

/** What --json writes: every run in the order it ran (peer, us, peer, us …), a failed one with its error. */
export interface PeersTrainingResults {
  readonly epochs: number;
  readonly maxSamples: number | null;
  readonly rounds: number;
  readonly cpu: string;
  readonly runs: readonly { readonly round: number; readonly who: string; readonly run?: Run; readonly error?: string }[];
  /** Contender → how its CPU was counted. */
  readonly cpuCounted: Record<string, string>;
  /** Peer → its library versions. */
  readonly versions: Record<string, string>;
}

const ledger: PeersTrainingResults['runs'][number][] = [];
async function attempt(round: number, contender: string, go: () => Promise<Run>): Promise<void> {
  const label = `round ${round}/${rounds}  ${contender.padEnd(10)}`;
  try {
    const run = await go();
    ledger.push({ round, who: contender, run });
    console.log(
      `${label} ${run.trainSamples}×${epochs} in ${run.trainSeconds.toFixed(1)} s: ${Math.round(samplesPerSecond(run))} samples/s | ` +
        `wall ${run.wallSeconds.toFixed(1)} s | test ${(run.testAccuracy * 100).toFixed(2)} % | CPU ${run.cpuMsPer1000Samples.toFixed(0)} ms/1000 samples`,
    );
  } catch (error) {
    // The other runs go on, a long benchmark is not thrown away for one; the exit code still tells.
    console.log(`${label} FAILED: ${(error as Error).message}`);
    ledger.push({ round, who: contender, error: errorSummary(error) });
    process.exitCode = 1;
  }
}

const pythons = new Map<PeerName, string>();
for (const peer of peers) pythons.set(peer, await pythonVenv(PEERS[peer].venv, PEERS[peer].requirements));
console.log(
  `seed recipe, ${epochs} epoch(s)${maxSamples === null ? '' : `, at most ${maxSamples} training images`}, ${rounds} round(s); ` +
    `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}; bun ${Bun.version}; stratus workers ${workerCounts.join(',')}${stratusArgs.length ? `, ${stratusArgs.join(' ')}` : ''}`,
);
for (let round = 1; round <= rounds; round++) {
  // Peer, us, peer, us: a drift in the machine's speed then touches both sides alike.
  for (const peer of peers.length ? peers : [null]) {
    if (peer) await attempt(round, peer, () => runPeer(peer, pythons.get(peer)!));
    for (const workers of workerCounts) await attempt(round, `stratus w${workers}`, () => runStratus(workers));
  }
}

await writeJsonResults(flags.json, {
  epochs,
  maxSamples,
  rounds,
  cpu: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}`,
  runs: ledger,
  cpuCounted: Object.fromEntries(cpuCounted),
  versions: Object.fromEntries(peerVersions),
} satisfies PeersTrainingResults);

const runs = ledger.flatMap((entry) => (entry.run ? [entry.run] : []));
const contenders = [...new Set(runs.map((run) => run.who))];
const medians = new Map(
  contenders.map((who) => {
    const mine = runs.filter((run) => run.who === who);
    const of = (figure: (run: Run) => number) => median(mine.map(figure));
    return [who, { runs: mine.length, samplesPerSecond: of(samplesPerSecond), trainSeconds: of((r) => r.trainSeconds), wallSeconds: of((r) => r.wallSeconds), testAccuracy: of((r) => r.testAccuracy), cpu: of((r) => r.cpuMsPer1000Samples) }];
  }),
);
if (!runs.length) process.exit(1);
console.log('\nmedians');
console.log('| contender | runs | samples/s | training s | wall s | test accuracy | CPU ms / 1000 samples |');
console.log('|---|---|---|---|---|---|---|');
for (const [who, m] of medians) {
  console.log(`| ${who} | ${m.runs} | ${Math.round(m.samplesPerSecond)} | ${m.trainSeconds.toFixed(1)} | ${m.wallSeconds.toFixed(1)} | ${(m.testAccuracy * 100).toFixed(2)} % | ${m.cpu.toFixed(0)} |`);
}
const ours = contenders.filter((who) => who.startsWith('stratus'));
const theirs = contenders.filter((who) => !who.startsWith('stratus'));
if (ours.length && theirs.length) {
  console.log('\nratios of the medians, Stratus / peer (samples/s above 1: Stratus trains faster; wall and CPU below 1: Stratus is quicker, cheaper)');
  console.log('| | samples/s | wall | CPU per sample |');
  console.log('|---|---|---|---|');
  for (const us of ours) {
    for (const peer of theirs) {
      const [a, b] = [medians.get(us)!, medians.get(peer)!];
      console.log(`| ${us} / ${peer} | ${(a.samplesPerSecond / b.samplesPerSecond).toFixed(2)}× | ${(a.wallSeconds / b.wallSeconds).toFixed(2)}× | ${(a.cpu / b.cpu).toFixed(2)}× |`);
    }
  }
}
console.log('\nCPU counted:');
for (const who of contenders) console.log(`  ${who}: ${cpuCounted.get(who)}`);
for (const [peer, versions] of peerVersions) console.log(`${peer}: ${versions}`);
await otherParts();
