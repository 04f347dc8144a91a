// The report's charts from its results: file name → SVG. Pure.
import type { LoadRun, Scenario } from './load-tests.ts';
import { PAPER } from './paper.ts';
import type { LoadTests, Results } from './results.ts';
import { barChartSvg, lineChartSvg, type Series } from './svg-charts.ts';

export const chartName = (mode: string, scenario: Scenario, kind: string) => `load-${mode}-${scenario}-${kind}.svg`;

function okRuns(tests: LoadTests, scenario: Scenario): LoadRun[] {
  return tests.runs.flatMap((r) => (r.scenario === scenario && r.outcome.status === 'ok' ? [r.outcome.value] : []));
}

/** One series per setting over the run's seconds, of whatever `pick` reads from a history row. */
function overTime(runs: readonly LoadRun[], pick: (point: LoadRun['history'][number]) => number | null): Series[] {
  return runs.map((run) => {
    const start = run.history[0]?.timestamp ?? 0;
    return {
      name: `${run.users} users`,
      points: run.history.flatMap((p) => {
        const y = pick(p);
        return y === null ? [] : [{ x: p.timestamp - start, y }];
      }),
    };
  });
}

export function loadCharts(tests: LoadTests, scenario: Scenario, title: string): Map<string, string> {
  const runs = okRuns(tests, scenario);
  const charts = new Map<string, string>();
  if (runs.length === 0) return charts;
  const where = `${title}, ${tests.mode} mode`;
  charts.set(chartName(tests.mode, scenario, 'users'), lineChartSvg({ title: `Users over time: ${where}`, xLabel: 'seconds', yLabel: 'users', series: overTime(runs, (p) => p.users) }));
  charts.set(chartName(tests.mode, scenario, 'rps'), lineChartSvg({ title: `Requests per second: ${where}`, xLabel: 'seconds', yLabel: 'requests/s', series: overTime(runs, (p) => p.requestsPerSecond) }));
  charts.set(chartName(tests.mode, scenario, 'failures'), lineChartSvg({ title: `Failed requests per second: ${where}`, xLabel: 'seconds', yLabel: 'failures/s', series: overTime(runs, (p) => p.failuresPerSecond) }));
  charts.set(
    chartName(tests.mode, scenario, 'response-time'),
    lineChartSvg({
      title: `95th percentile response time (last 10 s): ${where}`,
      xLabel: 'seconds',
      yLabel: 'ms',
      // Before the first request Locust writes 0, not N/A: no point rather than a false 0 ms.
      series: overTime(runs, (p) => (p.totalRequests === 0 ? null : p.percentilesMs['95%'])),
    }),
  );
  const byUsers = [...runs].sort((a, b) => a.users - b.users);
  charts.set(
    chartName(tests.mode, scenario, 'percentiles'),
    lineChartSvg({
      title: `Response time percentiles by users: ${where}`,
      xLabel: 'users',
      yLabel: 'ms',
      markers: true,
      series: (['50%', '90%', '95%', '99%'] as const).map((p) => ({
        name: `p${p.replace('%', '')}`,
        points: byUsers.flatMap((run) => (run.total.percentilesMs[p] === null ? [] : [{ x: run.users, y: run.total.percentilesMs[p] as number }])),
      })),
    }),
  );
  return charts;
}

export function handDrawnChart(results: Results): Map<string, string> {
  if (results.handDrawn.status !== 'ok') return new Map();
  const { perDigit } = results.handDrawn.value;
  return new Map([
    [
      'hand-drawn-per-digit.svg',
      barChartSvg({
        title: 'Hand-drawn digits: accuracy per digit',
        yLabel: 'accuracy',
        groups: ['Stratus (pendigits strokes in Chromium)', 'paper (7 and 8 only given)'],
        bars: perDigit.map((tally, digit) => ({
          label: String(digit),
          values: [tally.total === 0 ? null : tally.right / tally.total, PAPER.handDrawn.perDigit[digit] ?? null],
        })),
        yMax: 1,
        formatValue: (v) => `${Math.round(v * 100)} %`,
      }),
    ],
  ]);
}

export function trainingChart(results: Results): Map<string, string> {
  const series = results.training.flatMap((t) =>
    t.outcome.status === 'ok' ? [{ name: `${t.recipe}, ${t.workers} worker(s)`, points: t.outcome.value.history.map((h) => ({ x: h.epoch, y: h.valAccuracy * 100 })) }] : [],
  );
  if (series.length === 0) return new Map();
  return new Map([['training-validation-accuracy.svg', lineChartSvg({ title: 'Validation accuracy per epoch', xLabel: 'epoch', yLabel: 'accuracy (%)', series, markers: true })]]);
}
