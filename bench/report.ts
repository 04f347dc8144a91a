// The paper's evaluation, reproduced in one command: training time and accuracy, the hand-drawn digits
// in a real browser, and Locust load tests of the page (GET) and the prediction endpoint (POST) in
// local and cluster mode; then the repository's own benches beside it (training, inference and serving
// against the Python peers; failover; abuse; storage), each through its --json output; then
// docs/evaluation.md with the paper's figures beside ours, and its charts.
//
//   bun run bench/report.ts [--quick] [--out DIR]
//                           [--only training,hand-drawn,local,cluster,peers-training,peers-inference,peers-serving,
//                                   failover,abuse,retention,store-scale]   (peers, storage: their groups)
//                           [--binary ./stratus] [--seconds N] [--wait MIN,MAX] [--mnist DIR]
//   bun run bench/report.ts --render docs/evaluation/results.json    # the text and charts again, no run
//
// --quick: a smoke run of a few minutes (2 settings of 12 s, 20 digits, 1 short epoch, every bench at its
// smallest: bench/report/bench-plans.ts), written to .tmp/evaluation-quick/ unless --out says otherwise;
// the full run (load settings of 30 s by default) writes docs/ and takes under 45 minutes on 2 cores. Each experiment has a
// time budget; one that fails or runs over is reported as failed, with its error, and the run goes on.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { BENCH_EXPERIMENTS, benchPlans, EXPERIMENT_GROUPS } from './report/bench-plans.ts';
import { runBenchScript } from './report/bench-script.ts';
import { runHandDrawn } from './report/hand-drawn.ts';
import { servedAccuracy } from './report/baseline.ts';
import { drawingBodies, mnistBodies, type LabelledBody } from './report/load-data.ts';
import { locustAvailable, runLocust, SCENARIOS, type LoadSetting, type LocustInputs, type Scenario } from './report/load-tests.ts';
import { describeMachine } from './report/machine.ts';
import { renderReport } from './report/markdown.ts';
import { Children, withBudget, type Outcome } from './report/outcome.ts';
import { PAPER } from './report/paper.ts';
import { MAIN, REPO, relativeToRepo, shellWord } from './report/processes.ts';
import type { BenchResults, LoadTests, PlanLine, Results } from './report/results.ts';
import { startClusterTarget, startLocalTarget, type Target } from './report/targets.ts';
import { runTraining, type Recipe } from './report/training.ts';

const EXPERIMENTS = ['training', 'hand-drawn', 'local', 'cluster', ...BENCH_EXPERIMENTS] as const;

function fail(message: string): never {
  console.error(`bench/report: ${message}`);
  process.exit(2);
}

const OPTIONS = {
  quick: { type: 'boolean', default: false },
  out: { type: 'string' },
  only: { type: 'string', default: EXPERIMENTS.join(',') },
  binary: { type: 'string' },
  seconds: { type: 'string' },
  wait: { type: 'string', default: '1,2' },
  mnist: { type: 'string', default: resolve(REPO, '../shared/data/mnist') },
  render: { type: 'string' },
} as const;
let flags: ReturnType<typeof parseArgs<{ options: typeof OPTIONS }>>['values'];
try {
  flags = parseArgs({ options: OPTIONS }).values;
} catch (error) {
  fail((error as Error).message);
}
const quick = flags.quick;
const only = new Set<string>(flags.only.split(',').filter(Boolean).flatMap((name): readonly string[] => EXPERIMENT_GROUPS[name] ?? [name]));
for (const name of only) if (!(EXPERIMENTS as readonly string[]).includes(name)) fail(`--only takes ${[...EXPERIMENTS, ...Object.keys(EXPERIMENT_GROUPS)].join(', ')}; got ${name}`);
const wait = flags.wait.split(',').map(Number);
if (wait.length !== 2 || !wait.every((w) => Number.isFinite(w) && w >= 0) || wait[0]! > wait[1]!) fail('--wait must be MIN,MAX seconds, 0 ≤ MIN ≤ MAX');
// 30 s a setting keeps the full run under 45 minutes (60 s took the load tests alone to ~37).
const seconds = flags.seconds === undefined ? (quick ? 12 : 30) : Number(flags.seconds);
if (!Number.isInteger(seconds) || seconds < 1) fail('--seconds must be a whole number ≥ 1');
if (flags.binary !== undefined && !(await Bun.file(flags.binary).exists())) fail(`--binary ${flags.binary}: no such file`);
// The sources under this Bun by default: what the report measures is then the checked-out code.
const stratusCommand = flags.binary === undefined ? [process.execPath, MAIN] : [resolve(flags.binary)];
const outDir = resolve(flags.out ?? (quick ? join(REPO, '.tmp/evaluation-quick') : join(REPO, 'docs')));
const chartsDir = join(outDir, 'evaluation');
const rawDir = join(chartsDir, 'raw');

// The paper's three settings, then ours; quick mode keeps the first and last of the paper's.
const SETTINGS: LoadSetting[] = quick
  ? [PAPER.load.settings[0], PAPER.load.settings[2]]
  : [...PAPER.load.settings, { users: 200, spawnRate: 20 }, { users: 1000, spawnRate: 100 }];
const HAND_DRAWN_PER_DIGIT = quick ? 2 : PAPER.handDrawn.digits / 10;
const TRAINING_LIMITS = quick ? { epochs: 1, maxSamples: 2000 } : {};
const MINUTE = 60_000;
// The seed recipe on one thread and on two (the paper's own network), and the default recipe on two, as
// the trainer runs it by default; the default on one thread (5.8 min) would not fit the 45-minute run.
const TRAINING_RUNS: readonly { recipe: Recipe; workers: number }[] = [
  { recipe: 'seed', workers: 1 },
  { recipe: 'seed', workers: 2 },
  { recipe: 'default', workers: 2 },
];
const BENCH_PLANS = benchPlans(quick, flags.mnist, flags.binary === undefined ? undefined : resolve(flags.binary));

/** What each experiment runs with, its budget and the minutes expected, for the report's header. The
 * paper's experiments' expectations come from the full run of 2026-12-04 (29.3 min at 30 s a load
 * setting): training 2.8 + 1.5 + 3.6 min, hand-drawn a quarter of a minute, each Locust run its
 * seconds and under one more, cluster mode's start and no-load check about 10 s. */
function runPlan(): PlanLine[] {
  const loadRuns = Object.keys(SCENARIOS).length * SETTINGS.length;
  const loadMinutes = (loadRuns * (seconds + 1)) / 60;
  const lines: PlanLine[] = [
    { experiment: 'training', parameters: `${TRAINING_RUNS.map((r) => `${r.recipe} ×${r.workers}`).join(', ')} (recipe × workers)${quick ? `, ${TRAINING_LIMITS.epochs} epoch of ${TRAINING_LIMITS.maxSamples} samples` : ', each recipe\'s own epochs'}`, budgetMinutes: quick ? 20 : 150, expectedMinutes: quick ? 2 : 2.9 },
    { experiment: 'hand-drawn', parameters: `${HAND_DRAWN_PER_DIGIT * 10} digits`, budgetMinutes: quick ? 5 : 20, expectedMinutes: 0.2 },
  ];
  for (const mode of ['local', 'cluster']) {
    lines.push({ experiment: mode, parameters: `${loadRuns} Locust runs of ${seconds} s (${SETTINGS.map((s) => s.users).join(', ')} users × ${Object.keys(SCENARIOS).length} scenarios)`, budgetMinutes: Math.round(((mode === 'cluster' ? 6 : 2) * MINUTE + 3 * MINUTE + loadRuns * (seconds + 90) * 1000) / MINUTE), expectedMinutes: Math.round((loadMinutes + (mode === 'cluster' ? 0.2 : 0)) * 10) / 10 });
  }
  for (const name of BENCH_EXPERIMENTS) {
    const plan = BENCH_PLANS[name];
    lines.push({ experiment: name, parameters: [plan.script, ...plan.args.map(relativeToRepo)].map(shellWord).join(' '), budgetMinutes: plan.budgetMinutes, expectedMinutes: plan.expectedMinutes });
  }
  return lines.filter((line) => only.has(line.experiment));
}

// Children that spawn `bun` by name (the browser harness) find this one.
process.env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    for (const proc of Children.everywhere) Children.signal(proc, 'SIGTERM');
    process.exit(130);
  });
}

const notRun = <T>(reason: string): Outcome<T> => ({ status: 'not run', reason });

interface LoadBodies {
  readonly digits: LabelledBody[];
  readonly drawings: LabelledBody[];
}

async function loadTests(mode: 'local' | 'cluster', inputs: LocustInputs, bodies: LoadBodies): Promise<LoadTests> {
  const scenarios = Object.keys(SCENARIOS) as Scenario[];
  const planned = scenarios.flatMap((scenario) => SETTINGS.map((s) => ({ scenario, ...s })));
  const skipped = (reason: string): LoadTests => ({ mode, startup: notRun(reason), baseline: notRun(reason), runs: planned.map((p) => ({ ...p, outcome: notRun(reason) })) });
  if (!only.has(mode)) return skipped('not asked for (--only)');
  const noLocust = locustAvailable();
  if (noLocust !== null) return skipped(noLocust);
  // The deployment lives across all its runs; its own budget covers only starting it.
  const children = new Children();
  let target: Target | undefined;
  const startup = await withBudget(`${mode} mode start`, mode === 'cluster' ? 6 * MINUTE : 2 * MINUTE, async () => {
    target = await (mode === 'cluster' ? startClusterTarget : startLocalTarget)(children, stratusCommand, rawDir);
    return { commands: target.commands };
  });
  if (startup.status !== 'ok' || target === undefined) {
    await children.stopAll();
    const reason = `${mode} mode did not start`;
    return { mode, startup, baseline: notRun(reason), runs: planned.map((p) => ({ ...p, outcome: notRun(reason) })) };
  }
  const runs: LoadTests['runs'] = [];
  let baseline: LoadTests['baseline'] = notRun('not reached');
  try {
    const url = target.url;
    baseline = await withBudget(`${mode} no-load accuracy`, 3 * MINUTE, async () => ({
      pixels: await servedAccuracy(url, bodies.digits),
      drawing: await servedAccuracy(url, bodies.drawings),
    }));
    for (const p of planned) {
      console.error(`… ${mode} mode, ${p.scenario}, ${p.users} users`);
      const outcome = await withBudget(`${mode} ${p.scenario} ${p.users} users`, (seconds + 90) * 1000, (own) =>
        runLocust(own, target!.url, p.scenario, p, seconds, join(rawDir, mode), inputs),
      );
      runs.push({ ...p, outcome });
    }
  } finally {
    await target.stop().catch((error: unknown) => console.error(`stopping ${mode} mode: ${String(error)}`));
    await children.stopAll();
  }
  return { mode, startup, baseline, runs };
}

async function training(recipe: Recipe, workers: number): Promise<Results['training'][number]> {
  if (!only.has('training')) return { recipe, workers, outcome: notRun('not asked for (--only)') };
  console.error(`… training, ${recipe} recipe, ${workers} worker(s)`);
  const budget = quick ? 5 * MINUTE : recipe === 'seed' ? 30 * MINUTE : 45 * MINUTE;
  const outcome = await withBudget(`training ${recipe} ×${workers}`, budget, (children) =>
    runTraining(children, stratusCommand, recipe, workers, flags.mnist, rawDir, TRAINING_LIMITS),
  );
  return { recipe, workers, outcome };
}

/** The repository's own benches, one after the other, each under its budget, through its --json output. */
async function benches(): Promise<BenchResults> {
  const dir = join(rawDir, 'benches');
  await mkdir(dir, { recursive: true });
  // Each bench's JSON is read as the type its script exports; the record is keyed by the same names.
  const results: Record<string, Outcome<unknown>> = {};
  for (const name of BENCH_EXPERIMENTS) {
    if (!only.has(name)) {
      results[name] = notRun('not asked for (--only)');
      continue;
    }
    console.error(`… ${name}`);
    const plan = BENCH_PLANS[name];
    results[name] = await withBudget(name, plan.budgetMinutes * MINUTE, (children) => runBenchScript(children, plan.script, plan.args, dir, name));
  }
  return results as unknown as BenchResults;
}

async function main(): Promise<void> {
  const started = performance.now();
  const startedAt = new Date().toISOString();
  const machine = await describeMachine();
  await rm(chartsDir, { recursive: true, force: true });
  await mkdir(join(rawDir, 'local'), { recursive: true });
  await mkdir(join(rawDir, 'cluster'), { recursive: true });

  const dataDir = await mkdtemp(join(tmpdir(), 'stratus-eval-data-'));
  const inputs: LocustInputs = { digitsFile: join(dataDir, 'mnist-test-500.json'), drawingsFile: join(dataDir, 'pendigits-500.json'), wait: [wait[0]!, wait[1]!] };
  const bodies: LoadBodies = { digits: mnistBodies(flags.mnist, 500), drawings: drawingBodies(500) };
  await Bun.write(inputs.digitsFile, JSON.stringify(bodies.digits));
  await Bun.write(inputs.drawingsFile, JSON.stringify(bodies.drawings));

  try {
    const trainingRuns: Results['training'] = [];
    for (const { recipe, workers } of TRAINING_RUNS) trainingRuns.push(await training(recipe, workers));
    const handDrawn = only.has('hand-drawn')
      ? (console.error('… hand-drawn digits in Chromium'), await withBudget('hand-drawn', quick ? 5 * MINUTE : 20 * MINUTE, () => runHandDrawn(HAND_DRAWN_PER_DIGIT)))
      : notRun<Awaited<ReturnType<typeof runHandDrawn>>>('not asked for (--only)');
    const load = [await loadTests('local', inputs, bodies), await loadTests('cluster', inputs, bodies)];
    const benchResults = await benches();
    const results: Results = {
      command: ['bun', 'run', 'bench/report.ts', ...process.argv.slice(2)].map(shellWord).join(' '),
      quick,
      startedAt,
      totalSeconds: Math.round((performance.now() - started) / 1000),
      machine,
      stratus: stratusCommand.map((w) => (w === process.execPath ? 'bun' : w.replace(`${REPO}/`, ''))).join(' '),
      loadSettings: { seconds, wait: inputs.wait },
      load,
      handDrawn,
      training: trainingRuns,
      benches: benchResults,
      plan: runPlan(),
    };
    await writeReport(results, outDir);
  } finally {
    await rm(dataDir, { recursive: true, force: true });
  }
  console.log(`total run time: ${((performance.now() - started) / 60_000).toFixed(1)} minutes`);
}

/** Writes the report's text and charts from a run's results (also used alone by --render). */
async function writeReport(results: Results, into: string): Promise<void> {
  const report = renderReport(results);
  const charts = join(into, 'evaluation');
  await mkdir(charts, { recursive: true });
  await writeFile(join(charts, 'results.json'), `${JSON.stringify(results, null, 1)}\n`);
  for (const [name, svg] of report.charts) await writeFile(join(charts, name), svg);
  await writeFile(join(into, 'evaluation.md'), report.markdown);
  console.log(`wrote ${join(into, 'evaluation.md')} and ${report.charts.size} charts in ${charts}`);
}

if (flags.render !== undefined) {
  const file = resolve(flags.render);
  const results = (await Bun.file(file).json().catch(() => fail(`--render ${flags.render}: not a results.json`))) as Results;
  // results.json sits in <out>/evaluation/.
  await writeReport(results, dirname(dirname(file)));
} else {
  await main();
}
