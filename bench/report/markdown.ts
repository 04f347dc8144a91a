// docs/evaluation.md from a run's results: the paper's figure beside ours for every experiment, the
// charts, the machine, the date and the exact commands. Pure: results in, text and SVG files out.
import { abuseSection } from './abuse-section.ts';
import { chartName, handDrawnChart, loadCharts, trainingChart } from './charts.ts';
import { failoverSection } from './failover-section.ts';
import { peersSection } from './peers-section.ts';
import { storageSection } from './storage-section.ts';
import { LOCUST_INPUTS_NOTE, SCENARIOS, type LoadRun, type Scenario } from './load-tests.ts';
import type { Baseline } from './baseline.ts';
import { cell, code, loadCell, ms, pct, why } from './format.ts';
import { describePaperLoad, NOT_GIVEN, PAPER, PAPER_LOAD, paperCellFor } from './paper.ts';
import type { LoadTests, Results } from './results.ts';

export interface RenderedReport {
  readonly markdown: string;
  /** File name (in the charts directory) → SVG. */
  readonly charts: Map<string, string>;
}

/** The versions the page and the load tests' answers named, or why none are known. */
function servedModels(results: Results): string {
  const names = new Set<string>();
  if (results.handDrawn.status === 'ok' && results.handDrawn.value.model !== undefined) names.add(results.handDrawn.value.model);
  for (const tests of results.load) if (tests.baseline.status === 'ok') for (const name of tests.baseline.value.pixels.models ?? []) names.add(name);
  return names.size > 0 ? [...names].sort().map(code).join(', ') : 'not recorded by this run';
}

const modelsNamed = (baseline: Baseline) => (baseline.models?.length ? ` (${baseline.models.map(code).join(', ')})` : '');

function failureRate(run: LoadRun): number {
  return run.total.requests === 0 ? 0 : run.total.failures / run.total.requests;
}

function findRun(results: Results, mode: string, scenario: Scenario, users: number): LoadRun | null {
  const run = results.load.find((t) => t.mode === mode)?.runs.find((r) => r.scenario === scenario && r.users === users);
  return run?.outcome.status === 'ok' ? run.outcome.value : null;
}

/** Our figures of one load run, worded as the paper's are. */
function runFigures(run: LoadRun): string {
  return `${run.total.requests.toLocaleString('en-US')} requests, ${pct(failureRate(run), 2)} failed, mean ${ms(run.total.averageMs)}`;
}

/** The summary's load rows: each of the paper's settings and methods beside our run of it in `mode`. POST
 * is set beside the MNIST-pixels scenario, the one that sends what the paper's page sent (an image). */
function paperLoadRows(results: Results, mode: 'local' | 'cluster'): string[] {
  const tests = results.load.find((t) => t.mode === mode);
  const down = tests === undefined ? 'not run' : tests.startup.status !== 'ok' ? why(tests.startup) : null;
  const scenarioOf = { GET: 'website', POST: 'predict' } as const;
  return (['GET', 'POST'] as const).flatMap((method) =>
    PAPER.load.settings.map(({ users }) => {
      const figure = PAPER_LOAD.find((f) => f.method === method && f.users === users);
      const run = findRun(results, mode, scenarioOf[method], users);
      const ours = down ?? (run === null ? 'n/a' : `${runFigures(run)} (spawn rate ${run.spawnRate})`);
      return `| ${method} ${method === 'GET' ? '/' : '/api/predict'}, ${users} users, ${mode} mode | ${figure ? describePaperLoad(figure) : NOT_GIVEN} | ${ours} |`;
    }),
  );
}

function summary(results: Results): string[] {
  const rows: string[] = ['| experiment | paper | Stratus (this run) |', '|---|---|---|'];
  const training = results.training.find((t) => t.outcome.status === 'ok' && t.recipe === 'seed' && t.workers === 1) ?? results.training.find((t) => t.outcome.status === 'ok');
  rows.push(
    `| MNIST test accuracy, training time | ${pct(PAPER.training.testAccuracy, 2)} in ${PAPER.training.seconds} s (${PAPER.training.workers} ${PAPER.training.platform} workers) | ` +
      (training?.outcome.status === 'ok'
        ? `${pct(training.outcome.value.testAccuracy, 2)} in ${training.outcome.value.trainingSeconds.toFixed(0)} s of training (${training.recipe} recipe, ${training.outcome.value.epochs} epoch(s) of ${training.outcome.value.trainSamples} samples, ${training.workers === 1 ? '1 thread' : `${training.workers} worker threads`}) |`
        : 'no training run succeeded |'),
  );
  const hand = results.handDrawn;
  rows.push(
    `| hand-drawn digits | ${pct(PAPER.handDrawn.accuracy, 0)} of ${PAPER.handDrawn.digits} (50 % on 7 and on 8) | ` +
      (hand.status === 'ok'
        ? `${pct(hand.value.correct / hand.value.digits)} of ${hand.value.digits} (7: ${digitRate(hand.value.perDigit[7]!)}, 8: ${digitRate(hand.value.perDigit[8]!)}) |`
        : `${why(hand)} |`),
  );
  for (const mode of ['local', 'cluster'] as const) rows.push(...paperLoadRows(results, mode));
  return rows;
}

const digitRate = (tally: { right: number; total: number }) => (tally.total === 0 ? 'n/a' : `${tally.right}/${tally.total}`);

function trainingSection(results: Results): string[] {
  const lines = [
    '## Training',
    '',
    'The trainer role run as a job with its default backend (each step\'s gradients from ONNX Runtime where it loads, `--backend` in docs/training.md), on one thread or on 2 worker threads training one model data-parallel (`--workers 2`: gradients averaged every step, so a step trains 2 × the batch); test accuracy on the 10,000 MNIST test digits, from its `report.json`. The paper trained on Spark.',
    '',
    '| recipe | workers | epochs × samples | training time | wall time | samples/s | test accuracy | load average | paper |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const t of results.training) {
    const paper = t.recipe === 'seed' ? `${pct(PAPER.training.testAccuracy, 2)}, ${PAPER.training.seconds} s on ${PAPER.training.workers} workers` : NOT_GIVEN;
    if (t.outcome.status !== 'ok') {
      lines.push(`| ${t.recipe} | ${t.workers} | ${why(t.outcome)} | | | | | ${loadCell(t.outcome)} | ${paper} |`);
      continue;
    }
    const v = t.outcome.value;
    lines.push(`| ${t.recipe} | ${t.workers} | ${v.epochs} × ${v.trainSamples} | ${v.trainingSeconds.toFixed(1)} s | ${v.wallSeconds.toFixed(1)} s | ${Math.round(v.samplesPerSecond)} | ${pct(v.testAccuracy, 2)} | ${loadCell(t.outcome)} | ${paper} |`);
  }
  if (results.training.some((t) => t.outcome.status === 'ok')) lines.push('', '![Validation accuracy per epoch](evaluation/training-validation-accuracy.svg)');
  const commands = results.training.flatMap((t) => (t.outcome.status === 'ok' ? [`- ${code(t.outcome.value.command)} (log: ${code(t.outcome.value.logFile)})`] : []));
  if (commands.length > 0) lines.push('', 'Commands:', '', ...commands);
  return lines;
}

function handDrawnSection(results: Results): string[] {
  const lines = ['## Hand-drawn digits', ''];
  const hand = results.handDrawn;
  if (hand.status !== 'ok') return [...lines, `Hand-drawn experiment: ${why(hand)}.`];
  const v = hand.value;
  lines.push(
    `Recorded pen strokes of real writers (UCI pendigits, ${v.digits / 10} of each digit spread over ${v.writers === undefined ? "the file's writers" : `writers ${cell(v.writers)}, whose digits no model here was trained on`}) replayed as mouse input onto the drawing page in Chromium ${cell(v.chromium)}; Predict pressed; the answer read from the page. The paper's users drew ${PAPER.handDrawn.digits} digits by hand.`,
    '',
    `| digit | ${Array.from({ length: 10 }, (_, d) => d).join(' | ')} | all |`,
    `|---|${'---|'.repeat(11)}`,
    `| Stratus | ${v.perDigit.map((t) => (t.total === 0 ? 'n/a' : pct(t.right / t.total, 0))).join(' | ')} | ${pct(v.correct / v.digits)} (${v.correct}/${v.digits}) |`,
    `| paper | ${PAPER.handDrawn.perDigit.map((p) => (p === null ? NOT_GIVEN : pct(p, 0))).join(' | ')} | ${pct(PAPER.handDrawn.accuracy, 0)} of ${PAPER.handDrawn.digits} |`,
    '',
    '![Accuracy per digit](evaluation/hand-drawn-per-digit.svg)',
    '',
    `Misreads (expected→answered): ${v.misreads.length === 0 ? 'none' : cell(v.misreads.join(', '))}. ${v.digits} drawings took ${v.seconds} s; load average meanwhile ${loadCell(hand)}.`,
  );
  return lines;
}

function loadTable(tests: LoadTests, scenario: Scenario): string[] {
  const rows = tests.runs.filter((r) => r.scenario === scenario);
  if (rows.length === 0) return [];
  const lines = [
    `### ${cell(SCENARIOS[scenario].title)}, ${tests.mode} mode`,
    '',
    '| users | spawn rate | requests | failed | requests/s | mean | p50 | p90 | p95 | p99 | max | load average | paper, same method and users |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const row of rows) {
    const paper = paperCellFor(SCENARIOS[scenario].method, row.users);
    if (row.outcome.status !== 'ok') {
      lines.push(`| ${row.users} | ${row.spawnRate} | ${why(row.outcome)} | | | | | | | | | ${loadCell(row.outcome)} | ${paper} |`);
      continue;
    }
    const { total } = row.outcome.value;
    const p = total.percentilesMs;
    lines.push(
      `| ${row.users} | ${row.spawnRate} | ${total.requests} | ${total.failures} (${pct(failureRate(row.outcome.value), 2)}) | ${total.requestsPerSecond.toFixed(1)} | ${ms(total.averageMs)} | ${ms(p['50%'])} | ${ms(p['90%'])} | ${ms(p['95%'])} | ${ms(p['99%'])} | ${ms(total.maxMs)} | ${loadCell(row.outcome)} | ${paper} |`,
    );
  }
  const saturated = rows.flatMap((r) => (r.outcome.status === 'ok' && r.outcome.value.locustCpuWarning ? [r.users] : []));
  if (saturated.length > 0) lines.push('', `Locust warned that its own CPU was above 90 % at ${saturated.join(', ')} users: there the load generator, not Stratus, may have set the pace.`);
    const errors = rows.flatMap((r) => (r.outcome.status === 'ok' ? r.outcome.value.failures.map((f) => `${r.users} users: ${f.occurrences} × ${f.error}`) : []));
  if (errors.length > 0) lines.push('', `Failures: ${cell(errors.slice(0, 12).join('; '))}${errors.length > 12 ? ` (and ${errors.length - 12} more kinds)` : ''}.`);
  if (rows.some((r) => r.outcome.status === 'ok')) {
    lines.push('', ...['users', 'rps', 'failures', 'response-time', 'percentiles'].map((kind) => `![${kind}](evaluation/${chartName(tests.mode, scenario, kind)})`));
  }
  return [...lines, ''];
}

function loadSection(results: Results): string[] {
  const lines = [
    '## Load tests',
    '',
    `Locust (headless), one scenario at a time, each setting for ${results.loadSettings.seconds} s; every user waits ${results.loadSettings.wait[0]}–${results.loadSettings.wait[1]} s between requests (the paper's run time and wait time: ${NOT_GIVEN}). ` +
      'The POST scenarios send real MNIST test digits (or recorded pen strokes) and count a wrong digit as a failed request. ' +
      "The paper's settings are 10, 25 and 50 users; it gives spawn rates 1 and 5 for GET at 10 and 50 users, none for the others (we spawn 1, 3 and 5); the larger settings are ours. Each row's paper column is the paper's run of the same method with the same users. Locust runs on the same machine as Stratus.",
    '',
  ];
  for (const tests of results.load) {
    lines.push(`Deployment, ${tests.mode} mode: ${tests.startup.status === 'ok' ? tests.startup.value.commands.map(code).join(', ') : why(tests.startup)}.`, '');
    if (tests.startup.status !== 'ok') continue;
    const b = tests.baseline;
    lines.push(
      b.status === 'ok'
        ? `With no load, the model served in ${tests.mode} mode${modelsNamed(b.value.pixels)} reads ${b.value.pixels.right} of the ${b.value.pixels.total} MNIST digits right (${pct(1 - b.value.pixels.right / b.value.pixels.total, 2)} wrong) and ${b.value.drawing.right} of the ${b.value.drawing.total} pen-stroke digits (${pct(1 - b.value.drawing.right / b.value.drawing.total, 2)} wrong): failed POSTs up to those rates are misreadings, not the deployment giving way.`
        : `No-load accuracy check, ${tests.mode} mode: ${why(b)}.`,
      '',
    );
  }
  for (const tests of results.load) {
    if (tests.startup.status !== 'ok') continue;
    for (const scenario of Object.keys(SCENARIOS) as Scenario[]) lines.push(...loadTable(tests, scenario));
  }
  const commands = results.load.flatMap((t) => t.runs.flatMap((r) => (r.outcome.status === 'ok' ? [`${t.mode}: ${code(r.outcome.value.command)}`] : [])));
  if (commands.length > 0) {
    lines.push('<details><summary>Every Locust command (its CSV files are in evaluation/raw/)</summary>', '', `${cell(LOCUST_INPUTS_NOTE)}.`, '', ...commands.map((c) => `- ${c}`), '', '</details>');
  }
  return lines;
}

/** Each experiment's parameters, budget and expected minutes, and their sum, as the run planned them. */
function planSection(results: Results): string[] {
  if (results.plan === undefined || results.plan.length === 0) return [];
  const total = results.plan.reduce((sum, line) => sum + line.expectedMinutes, 0);
  return [
    `The run's plan: each experiment's parameters, its time budget (one that runs over is stopped and reported as failed) and the minutes it was expected to take on this 2-core machine, ${total.toFixed(1)} in all (with the Python peers' venvs under .tmp/ made beforehand: their first install comes on top).`,
    '',
    '| experiment | parameters | budget | expected |',
    '|---|---|---|---|',
    ...results.plan.map((line) => `| ${line.experiment} | ${code(line.parameters)} | ${line.budgetMinutes} min | ${line.expectedMinutes} min |`),
    '',
  ];
}

export function renderReport(results: Results): RenderedReport {
  const sections = [peersSection(results), failoverSection(results), abuseSection(results), storageSection(results)];
  const charts = new Map<string, string>([...handDrawnChart(results), ...trainingChart(results), ...sections.flatMap((section) => [...section.charts])]);
  for (const tests of results.load) for (const scenario of Object.keys(SCENARIOS) as Scenario[]) for (const [k, v] of loadCharts(tests, scenario, SCENARIOS[scenario].title)) charts.set(k, v);
  const m = results.machine;
  const lines = [
    '# Evaluation: the paper\'s experiments, reproduced',
    '',
    `Generated by ${code(results.command)} on ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${(results.totalSeconds / 60).toFixed(1)} minutes${results.quick ? ' — a **quick** run (short durations, fewer users and digits): a smoke test, not the evaluation' : ''}. ` +
      'Every figure below comes from that run; the raw files are in `evaluation/raw/` and all of it in `evaluation/results.json`.',
    '',
    `Machine: ${cell(m.cpu)}, ${m.cores} cores, ${m.memoryGiB} GiB; ${cell(m.os)}, Linux ${cell(m.kernel)}; Bun ${m.bun}; Locust ${cell(m.locust)} (${cell(m.python)}); load average at start ${m.loadAverageAtStart.join(' / ')}. ` +
      'The tables\' load average is the 1-minute load average sampled every 5 s while that experiment ran (mean, and max): above 2, this machine\'s 2 cores were shared with other work. ' +
      `Code: commit ${m.commit}${m.uncommittedChanges > 0 ? ` with ${m.uncommittedChanges} files changed since` : ''}; Stratus run as ${code(results.stratus)}; ` +
      `model served (as its answers name it): ${servedModels(results)}.`,
    '',
    ...planSection(results),
    '## Summary',
    '',
    ...summary(results),
    '',
    ...trainingSection(results),
    '',
    ...handDrawnSection(results),
    '',
    ...loadSection(results),
    '',
    ...sections.flatMap((section) => [...section.lines, '']),
  ];
  return { markdown: lines.join('\n'), charts };
}
