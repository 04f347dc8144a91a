// The report's abuse section (bench/abuse.ts): one hostile client floods the service while a liveness
// probe and a well-behaved client keep asking; what they see, against the idle window and the targets.
import type { AbuseWindowResult } from '../abuse.ts';
import { benchPreamble, chartTop, type RenderedSection } from './bench-section.ts';
import { cell, int } from './format.ts';
import type { Results } from './results.ts';
import { barChartSvg } from './svg-charts.ts';

/** Latencies below 100 ms keep a decimal: the probe's are a few ms. null (no answer in JSON): n/a. */
const lat = (value: number | null) => (value === null || !Number.isFinite(value) ? 'n/a' : value < 100 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`);
const statuses = (counts: Record<string, number>) => Object.entries(counts).sort().map(([status, n]) => `${status} ×${n}`).join(', ') || 'none';

function flood(w: AbuseWindowResult, seconds: number): string {
  if (w.kind === 'idle') return 'none';
  if (w.slow) return `${w.slow.opened} slow connections, ${w.slow.closedAtMs.length} closed by the server within ${seconds} s`;
  if (w.flood === null) return 'n/a';
  return `${int(w.flood.sent)} sent, ${int(w.flood.answered)} answered (${statuses(w.flood.statuses)})`;
}

export function abuseSection(results: Results): RenderedSection {
  const charts = new Map<string, string>();
  const { lines, value } = benchPreamble('Abuse', results.benches?.abuse);
  const out = ['## Abuse: one hostile client', '', ...lines];
  if (value === null) return { lines: out, charts };
  const t = value.targets;
  out.push(
    '',
    `Stratus (${cell(value.server)}) alone with a liveness probe (GET /v2/health/live every 50 ms) and a normal client (one real MNIST digit every 100 ms, its own session), idle and then beside each flood from one client for ${value.seconds} s: drawing (the costliest drawing the API admits), pixels (digits as fast as they are answered), slow (connections trickling or stalling their body). The targets: live p99 ≤ ${t.liveP99Ms} ms, normal p99 ≤ ${t.normalP99Ms} ms and ≤ ${t.ratioToIdle}× idle.`,
    '',
    '| flood | connections | flood answered | live probe p50 / p99 / max | normal client p50 / p99 / max | normal client statuses | server CPU per answer | server RSS peak | normal client back after |',
    '|---|---|---|---|---|---|---|---|---|',
  );
  for (const w of value.windows) {
    const p = w.probe.latency;
    const n = w.normal.latency;
    const back = w.kind === 'idle' ? '' : w.recoverySeconds === null ? (w.server.alive ? 'more than 20 s' : 'server died') : `${w.recoverySeconds.toFixed(1)} s`;
    out.push(
      `| ${w.kind} | ${w.connections || ''} | ${flood(w, value.seconds)} | ${lat(p.p50)} / ${lat(p.p99)} / ${lat(p.max)} | ${lat(n.p50)} / ${lat(n.p99)} / ${lat(n.max)} | ${statuses(w.normal.statuses)}${w.normal.skipped ? `, ${w.normal.skipped} ticks skipped` : ''} | ${w.server.cpuMsPerAnswer.toFixed(2)} ms | ${int(w.server.rssPeakMb)} MB | ${back} |`,
    );
  }
  const bars = value.windows.map((w) => ({ label: w.kind, values: [w.probe.latency.p99, w.normal.latency.p99].map((v) => (v === null || !Number.isFinite(v) ? null : v)) }));
  charts.set('abuse-p99.svg', barChartSvg({ title: "The well-behaved clients' p99 during each flood", yLabel: 'ms', groups: ['live probe p99', 'normal client p99'], bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: lat }));
  out.push('', '![Probe and normal client p99 during each flood](evaluation/abuse-p99.svg)');
  return { lines: out, charts };
}
