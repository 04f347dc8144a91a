// The report's failover section (bench/failover.ts): cluster mode under a steady open-loop load, one
// fault per scenario; for each, the time until the answered rate was back, p99 and max over the window
// after the fault, and the 504s.
import { benchPreamble, chartTop, type RenderedSection } from './bench-section.ts';
import { cell, int, ms } from './format.ts';
import type { Results } from './results.ts';
import { barChartSvg } from './svg-charts.ts';

/** The scenarios' names as the fault they are. */
const FAULTS: Record<string, string> = {
  none: 'no fault',
  'consumer-kill': 'consumer SIGKILL',
  'consumer-restart': 'consumer SIGKILL, started again at once',
  'consumer-hang': 'consumer SIGSTOP',
  'gateway-kill': 'gateway SIGKILL',
  'couchdb-restart': 'CouchDB restart',
  'broker-kill': 'broker SIGKILL',
  'controller-kill': 'quorum leader SIGKILL',
};
const fault = (scenario: string) => FAULTS[scenario] ?? scenario;

export function failoverSection(results: Results): RenderedSection {
  const charts = new Map<string, string>();
  const { lines, value } = benchPreamble('Failover', results.benches?.failover);
  const out = ['## Failover', '', ...lines];
  if (value === null) return { lines: out, charts };
  out.push(
    '',
    `Cluster mode as an operator runs it (two gateways, two consumers, three Kafka brokers with replication 3 and three controllers of their own, the CouchDB-API server), all on this machine; ${value.rate} requests/s offered (open loop, each with an Idempotency-Key, a gateway that stops answering dropped and its requests sent again to the other), the fault ${value.beforeSeconds} s in, figures over the requests sent in the ${value.afterSeconds} s after it. Role flags: ${value.roleFlags ? cell(value.roleFlags) : 'the defaults'}. "Back to rate": seconds after the fault until the answered rate stayed within 10 % of its level before.`,
    '',
    '| fault | sent | answered | 504 | other errors | back to rate after | p50 | p99 | max | retried at the other gateway | hedges | replays | Stratus CPU per answer |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
  );
  for (const r of value.rows) {
    out.push(`| ${cell(fault(r.scenario))} | ${int(r.sent)} | ${int(r.answered)} | ${int(r['504'])} | ${int(r.errors)} | ${r.recoveryS} s | ${ms(r.p50)} | ${ms(r.p99)} | ${ms(r.max)} | ${int(r.retried)} | ${int(r.hedges)} | ${int(r.replays)} | ${(r.cpuPerAnswerUs / 1000).toFixed(1)} ms |`);
  }
  if (value.rows.length > 0) {
    const bars = value.rows.map((r) => ({ label: fault(r.scenario).replace(/,.*/, ''), values: [r.p99, r.max] }));
    charts.set('failover-latency.svg', barChartSvg({ title: 'Latency in the window after each fault', yLabel: 'ms', groups: ['p99', 'max'], bars, yMax: chartTop(bars.flatMap((b) => b.values)), formatValue: (v) => ms(v), width: 760 }));
    out.push('', '![p99 and max latency after each fault](evaluation/failover-latency.svg)');
  }
  return { lines: out, charts };
}
