// The report's storage section: bytes on disk per prediction and the stores' write rate, reads and expiry
// at a size that fits the run (bench/store-scale.ts), and whether dropping expired data slows requests
// (bench/retention.ts: 5 s retention against the default 30 days, interleaved).
import type { RetentionResults } from '../retention.ts';
import type { StoreScaleResults } from '../store-scale.ts';
import { benchPreamble, chartTop, type RenderedSection } from './bench-section.ts';
import { int, ratio } from './format.ts';
import type { Results } from './results.ts';
import { barChartSvg, lineChartSvg } from './svg-charts.ts';

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
const fine = (value: number) => (Number.isFinite(value) ? (value < 10 ? value.toFixed(2) : value.toFixed(0)) : 'n/a');
const cpuCell = (own: number, server: number | null) => `${int(own)} µs${server === null ? '' : ` (server ${int(server)} µs)`}`;

function scale(value: StoreScaleResults, charts: Map<string, string>): string[] {
  const out = [
    '',
    `Predictions written as a consumer writes them (${value.batch} a call, ${value.concurrency} calls at once, as fast as the store takes them), each in one of ${int(value.sessions)} sessions, ${value.retentionDays}-day retention; then ${int(value.reads)} reads of each kind one at a time, then every period expired. CPU per result: this process's (the local store runs in it), and the CouchDB-API server's.`,
    '',
    '| store | predictions | bytes on disk per prediction | writes/s, first 5 % → last 5 % | CPU per result, first 5 % → last 5 % | sessionHistory p50 / p99 | getResult p50 / p99 | expiry |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of value.runs) {
    const c = r.cpuMicrosPerResult;
    out.push(
      `| ${r.store} | ${int(r.count)} | ${int(r.bytesPerPrediction)} B | ${int(r.rate.first5)} → ${int(r.rate.last5)} (${r.rate.lastOverFirst.toFixed(2)}) | ${cpuCell(c.first5, c.serverFirst5)} → ${cpuCell(c.last5, c.serverLast5)} | ${fine(r.historyMs.p50)} / ${fine(r.historyMs.p99)} ms | ${fine(r.getResultMs.p50)} / ${fine(r.getResultMs.p99)} ms | ${mb(r.expiry.bytesTakenBack)} back in ${int(r.expiry.ms)} ms; ${r.expiry.allGone ? 'all gone' : `**not all gone** (${r.expiry.databasesLeft} databases left)`} |`,
    );
  }
  if (value.runs.some((r) => r.tenths.length > 0)) {
    charts.set('storage-write-rate.svg', lineChartSvg({ title: 'Write rate over the load, each tenth', xLabel: '% of the load written', yLabel: 'results/s', markers: true, series: value.runs.map((r) => ({ name: r.store, points: r.tenths.map((t) => ({ x: t.percent, y: t.resultsPerSecond })) })) }));
    out.push('', '![Write rate over the load](evaluation/storage-write-rate.svg)');
  }
  return out;
}

function retention(value: RetentionResults, charts: Map<string, string>): string[] {
  const [b0, b1] = value.windows.before;
  const [a0, a1] = value.windows.after;
  const out = [
    '',
    `Local mode under ${int(value.rate)} requests/s from ${value.clients} clients for ${value.seconds} s, every flag at its default but the retention: 5 s (a period a second, dropped every second from ~7 s on) against the default 30 days (nothing expires), interleaved. Latency of the requests due ${b0}–${b1} s (before anything expires) and ${a0}–${a1} s (the 5 s runs dropping a period every second).`,
    '',
    '| run | retention | before p50 / p99 | after p50 / p99 | p99 after / before | p99 after / its pair\'s 30 d | max | 5xx | first drop, sweeps seen, oldest period on disk | data directory, peak → settled | server CPU per request |',
    '|---|---|---|---|---|---|---|---|---|---|---|',
  ];
  value.runs.forEach((r, i) => {
    const fivexx = Object.entries(r.statuses).reduce((sum, [status, n]) => (Number(status) >= 500 ? sum + n : sum), 0);
    const pair = i % 2 === 1 ? value.runs[i - 1] : undefined;
    const sweeps = r.oldestPeriodS === null ? '' : `${r.firstDropAt === null ? 'none' : `${(r.firstDropAt / 1000).toFixed(1)} s`}, ${r.sweepsSeen}, ${r.oldestPeriodS.toFixed(1)} s`;
    out.push(
      `| ${i + 1} | ${r.label} | ${fine(r.before.p50)} / ${fine(r.before.p99)} ms | ${fine(r.after.p50)} / ${fine(r.after.p99)} ms | ${ratio(r.after.p99, r.before.p99)} | ${pair ? ratio(r.after.p99, pair.after.p99) : ''} | ${fine(Math.max(r.before.max, r.after.max))} ms | ${fivexx} | ${sweeps} | ${mb(r.peakBytes)} → ${mb(r.settledBytes)} | ${int(r.serverCpuUs)} µs |`,
    );
  });
  const bars = value.runs.map((r, i) => ({ label: `${i + 1}: ${r.label.replace(/ .*/, '')}`, values: [r.before.p99, r.after.p99] }));
  charts.set('storage-retention-p99.svg', barChartSvg({ title: 'p99 before and while expired periods are dropped', yLabel: 'ms', groups: ['before', 'after (5 s: sweeps running)'], bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: (v) => `${fine(v)} ms` }));
  out.push('', '![p99 before and during the sweeps](evaluation/storage-retention-p99.svg)');
  return out;
}

export function storageSection(results: Results): RenderedSection {
  const charts = new Map<string, string>();
  const scaleRun = benchPreamble('Store scale', results.benches?.['store-scale']);
  const retentionRun = benchPreamble('Retention', results.benches?.retention);
  const lines = [
    '## Storage',
    '',
    '### Bytes per prediction, write rate, reads and expiry',
    '',
    ...scaleRun.lines,
    ...(scaleRun.value === null ? [] : scale(scaleRun.value, charts)),
    '',
    // The bound the store is held to (the end no more than 20 % slower than the start) is about 10 M
    // predictions, which take longer per store than this whole run may.
    'At this size the write rate says little about growth: the scale test at 10 million predictions a store, and its figures, are in [storage.md](storage.md#at-scale).',
    '',
    '### Dropping expired data under load',
    '',
    ...retentionRun.lines,
    ...(retentionRun.value === null ? [] : retention(retentionRun.value, charts)),
  ];
  return { lines, charts };
}
