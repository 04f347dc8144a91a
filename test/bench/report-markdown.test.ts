// The report's text from a run's results: the paper's figures beside ours, failures reported with their
// error, and every chart the text links to rendered.
import { expect, test } from 'bun:test';
import type { LoadRun } from '../../bench/report/load-tests.ts';
import { PERCENTILES, type Percentile } from '../../bench/report/locust-csv.ts';
import { renderReport } from '../../bench/report/markdown.ts';
import type { Results } from '../../bench/report/results.ts';

const percentiles = (ms: number) => Object.fromEntries(PERCENTILES.map((p, i) => [p, ms * (1 + i / 10)])) as Record<Percentile, number>;

function loadRun(scenario: LoadRun['scenario'], users: number, requests: number, failures: number, averageMs: number): LoadRun {
  return {
    scenario,
    users,
    spawnRate: users / 10,
    seconds: 12,
    command: `/usr/bin/locust -u ${users}`,
    total: { type: '', name: 'Aggregated', requests, failures, averageMs, minMs: 1, maxMs: 400, requestsPerSecond: requests / 12, percentilesMs: percentiles(averageMs) },
    failures: failures > 0 ? [{ method: 'POST', name: 'POST /api/predict', error: "CatchResponseError('wrong digit: expected <7>')", occurrences: failures }] : [],
    history: [0, 1, 2].map((t) => ({ timestamp: 1000 + t, users: Math.min(users, t * 5), name: 'Aggregated', requestsPerSecond: t * 3, failuresPerSecond: 0, percentilesMs: percentiles(20), totalRequests: t * 3, totalFailures: 0 })),
    locustCpuWarning: users >= 50,
    files: [],
  };
}

const results: Results = {
  command: 'bun run bench/report.ts --quick',
  quick: true,
  startedAt: '2026-11-25T16:00:00.000Z',
  totalSeconds: 300,
  machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, os: 'Debian 12', kernel: '6.1', bun: '1.4.4', locust: '2.12.1-1', python: 'Python 3.11.2', commit: 'abc1234', uncommittedChanges: 0, loadAverageAtStart: [1, 2, 3] },
  stratus: 'bun src/main.ts',
  loadSettings: { seconds: 12, wait: [1, 2] },
  load: [
    {
      mode: 'local',
      startup: { status: 'ok', seconds: 1, value: { commands: ['bun src/main.ts --port 1'] } },
      baseline: { status: 'ok', seconds: 5, value: { pixels: { right: 497, total: 500, models: ['lean-1'] }, drawing: { right: 480, total: 500, models: ['lean-1'] } } },
      runs: [
        { scenario: 'website', users: 10, spawnRate: 1, outcome: { status: 'ok', seconds: 14, value: loadRun('website', 10, 100, 0, 8), load: { mean: 1.5, max: 2 } } },
        { scenario: 'predict', users: 10, spawnRate: 1, outcome: { status: 'ok', seconds: 14, value: loadRun('predict', 10, 120, 0, 25) } },
        { scenario: 'predict', users: 50, spawnRate: 5, outcome: { status: 'ok', seconds: 14, value: loadRun('predict', 50, 400, 4, 30) } },
        { scenario: 'website', users: 50, spawnRate: 5, outcome: { status: 'failed', seconds: 100, error: 'local website 50 users: over its budget of 100 s' } },
      ],
    },
    { mode: 'cluster', startup: { status: 'failed', seconds: 60, error: 'ops/dev/services up exited with 1: no java' }, baseline: { status: 'not run', reason: 'cluster mode did not start' }, runs: [] },
  ],
  handDrawn: { status: 'ok', seconds: 40, value: { digits: 20, correct: 15, perDigit: Array.from({ length: 10 }, (_, d) => ({ right: d === 7 ? 0 : d % 2 === 0 ? 2 : 1, total: 2 })), misreads: ['7→1'], chromium: '156.0', seconds: 30, writers: '21-30', model: 'lean-0' } },
  training: [
    { recipe: 'seed', workers: 1, outcome: { status: 'ok', seconds: 80, value: { recipe: 'seed', workers: 1, command: 'bun src/main.ts --role trainer', epochs: 1, trainSamples: 2000, testAccuracy: 0.9312, trainingSeconds: 12.3, wallSeconds: 40, samplesPerSecond: 160, params: 1000, history: [{ epoch: 1, learningRate: 0.001, loss: 0.5, accuracy: 0.8, valLoss: 0.3, valAccuracy: 0.91, seconds: 12.3, samplesPerSecond: 160 }], logFile: 'x.log' }, load: { mean: 3.25, max: 6.5 } } },
    { recipe: 'seed', workers: 2, outcome: { status: 'failed', seconds: 3, error: 'trainer exited with 2: --workers: unknown flag' } },
  ],
};

const { markdown, charts } = renderReport(results);

test('the paper figure stands beside ours in the summary', () => {
  expect(markdown).toContain('| MNIST test accuracy, training time | 97.45 % in 144 s (5 Spark workers) | 93.12 % in 12 s of training (seed recipe, 1 epoch(s) of 2000 samples, 1 thread) |');
  expect(markdown).toContain('| hand-drawn digits | 74 % of 100 (50 % on 7 and on 8) | 75.0 % of 20 (7: 0/2, 8: 2/2) |');
});

test("each of the paper's load figures stands beside our run of the same method and users", () => {
  expect(markdown).toContain('| GET /, 10 users, local mode | 1,250 requests, 0 % failed, mean 2,950 ms (spawn rate 1) | 100 requests, 0.00 % failed, mean 8 ms (spawn rate 1) |');
  expect(markdown).toContain('| GET /, 25 users, local mode | ~1,000 requests, 3 % failed, mean 7,123 ms (spawn rate not given) | n/a |');
  expect(markdown).toContain('| POST /api/predict, 10 users, local mode | ~1,000 requests, < 1 % failed, mean 3,040 ms (spawn rate not given) | 120 requests, 0.00 % failed, mean 25 ms (spawn rate 1) |');
  // The paper has no POST run at 50 users.
  expect(markdown).toContain('| POST /api/predict, 50 users, local mode | not given | 400 requests, 1.00 % failed, mean 30 ms (spawn rate 5) |');
  expect(markdown).toContain('| GET /, 50 users, cluster mode | ~10,000 requests, ~98 % failed (HTTP 429), mean 306 ms (spawn rate 5) | failed after 60 s: ops/dev/services up exited with 1: no java |');
  expect(markdown).not.toContain('scenario not given');
});

test("the load tables carry the paper's figure in the row of the same method and users", () => {
  expect(markdown).toMatch(/\| 10 \| 1 \| 100 \|[^\n]*\| 1,250 requests, 0 % failed, mean 2,950 ms \(spawn rate 1\) \|\n/);
  expect(markdown).toMatch(/\| 50 \| 5 \| failed after 100 s[^\n]*\| ~10,000 requests, ~98 % failed \(HTTP 429\), mean 306 ms \(spawn rate 5\) \|\n/);
  expect(markdown).toMatch(/\| 10 \| 1 \| 120 \|[^\n]*\| ~1,000 requests, < 1 % failed, mean 3,040 ms \(spawn rate not given\) \|\n/);
  expect(markdown).toMatch(/\| 50 \| 5 \| 400 \|[^\n]*\| not given \|\n/);
});

test('failed and skipped experiments are reported with their reason', () => {
  expect(markdown).toContain('failed after 100 s: local website 50 users: over its budget of 100 s');
  expect(markdown).toContain('Deployment, cluster mode: failed after 60 s: ops/dev/services up exited with 1: no java');
  expect(markdown).toContain('| seed | 2 | failed after 3 s: trainer exited with 2: --workers: unknown flag |');
});

test('the machine, the date, the command and a quick run are stated', () => {
  expect(markdown).toContain('Generated by `bun run bench/report.ts --quick` on 2026-11-25 16:00 UTC in 5.0 minutes');
  expect(markdown).toContain('**quick** run');
  expect(markdown).toContain('AMD EPYC, 2 cores');
  expect(markdown).toContain('commit abc1234');
});

test("the served model's no-load accuracy on the same digits is given", () => {
  expect(markdown).toContain('reads 497 of the 500 MNIST digits right (0.60 % wrong) and 480 of the 500 pen-stroke digits (4.00 % wrong)');
});

test('the model versions that answered are named, once each', () => {
  expect(markdown).toContain('model served (as its answers name it): `lean-0`, `lean-1`.');
  expect(markdown).toContain('the model served in local mode (`lean-1`) reads 497');
  const { markdown: older } = renderReport({ ...results, handDrawn: { status: 'not run', reason: 'not asked for (--only)' }, load: [] });
  expect(older).toContain('model served (as its answers name it): not recorded by this run.');
});

test("Locust's own CPU saturation is pointed out", () => {
  expect(markdown).toContain('Locust warned that its own CPU was above 90 % at 50 users');
});

test('the load average during each experiment stands in its row, n/a where it was not sampled', () => {
  expect(markdown).toMatch(/\| seed \| 1 \| 1 × 2000 \|[^\n]*\| 93\.12 % \| 3\.3 \(max 6\.5\) \|/);
  expect(markdown).toMatch(/\| 10 \| 1 \| 100 \|[^\n]*\| 1\.5 \(max 2\.0\) \|/);
  expect(markdown).toMatch(/\| 10 \| 1 \| 120 \|[^\n]*\| n\/a \|/);
});

test('the hand-drawn digits name the writers they came from, none trained on', () => {
  expect(markdown).toContain('2 of each digit spread over writers 21-30, whose digits no model here was trained on');
});

test('error text from the run is escaped', () => {
  expect(markdown).toContain('wrong digit: expected &lt;7&gt;');
  expect(markdown).not.toContain('<7>');
});

test('every chart the report links to is rendered, and no chart goes unlinked', () => {
  const linked = [...markdown.matchAll(/!\[[^\]]*\]\(evaluation\/([^)]+)\)/g)].map((m) => m[1]!);
  expect(linked.length).toBeGreaterThan(5);
  expect(new Set(linked)).toEqual(new Set(charts.keys()));
  expect(charts.get('hand-drawn-per-digit.svg')).toContain('<svg');
  expect(charts.has('load-local-predict-percentiles.svg')).toBe(true);
  expect([...charts.keys()].some((name) => name.includes('cluster'))).toBe(false);
});

test('the response-time chart leaves out the seconds before the first request', () => {
  const svg = charts.get('load-local-predict-response-time.svg')!;
  const points = /<polyline[^>]* points="([^"]*)"/.exec(svg)![1]!.split(' ');
  // The fixture's history has 3 rows, the first before any request.
  expect(points).toHaveLength(2);
});
