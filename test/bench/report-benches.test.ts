// The report's sections from the benches it runs (peers, failover, abuse, storage), rendered from a
// fixture of their --json results: every run listed, ratios of the medians, failures with their reason,
// and every chart linked and rendered.
import { expect, test } from 'bun:test';
import { renderReport } from '../../bench/report/markdown.ts';
import type { Results } from '../../bench/report/results.ts';
import { BENCHES, PLAN } from './bench-results.fixture.ts';

const base: Results = {
  command: 'bun run bench/report.ts',
  quick: false,
  startedAt: '2026-12-06T10:00:00.000Z',
  totalSeconds: 2580,
  machine: { cpu: 'AMD EPYC', cores: 2, memoryGiB: 23.5, os: 'Debian 12', kernel: '6.1', bun: '1.4.4', locust: '2.12.1-1', python: 'Python 3.11.2', commit: 'abc1234', uncommittedChanges: 0, loadAverageAtStart: [1, 1, 1] },
  stratus: 'bun src/main.ts',
  loadSettings: { seconds: 30, wait: [1, 2] },
  load: [],
  handDrawn: { status: 'not run', reason: 'not asked for (--only)' },
  training: [],
};
const { markdown, charts } = renderReport({ ...base, benches: BENCHES, plan: PLAN });
/** The markdown from a heading to the next heading of the same level or higher. */
const section = (heading: string) => {
  const from = markdown.indexOf(`${heading}\n`);
  expect(from).toBeGreaterThanOrEqual(0);
  const level = heading.indexOf(' ');
  const next = markdown.slice(from + heading.length).search(new RegExp(`\\n#{1,${level}} `));
  return next === -1 ? markdown.slice(from) : markdown.slice(from, from + heading.length + next);
};

test('the header states each experiment\'s parameters, budget and expected minutes, and their sum', () => {
  expect(markdown).toContain('expected to take on this 2-core machine, 24.0 in all (');
  expect(markdown).toContain('| failover | `bench/failover.ts --rate 200` | 8 min | 4.5 min |');
});

test('training against the peers lists every interleaved run, a failed one with its error, then the ratios of the medians', () => {
  const text = section('### Training against Keras and Elephas (the seed paper\'s Spark pipeline)');
  expect(text).toContain('| 1 | keras | 8,000 | 166 | 6.8 | 16.8 | 98.71 % |');
  expect(text).toContain('| 2 | keras | failed: keras_train.py exited 137 |');
  expect(text.match(/\| \d \| stratus w2 \| 10,000 \| 198 \|/g)).toHaveLength(2);
  // 10,000 / 8,000 samples/s; 198 / 166 ms of CPU per 1,000 samples; 98.59 − 98.71 %.
  expect(text).toContain('| stratus w2 / keras | 1.25× | 1.19× | 0.92× | -0.12 points |');
  expect(text).toContain('It exited with 1: round 2 keras FAILED');
  expect(text).toContain('Versions: keras: tensorflow 2.21.0, keras 3.15.1. The paper: 97.45 % test accuracy in 144 s on 5 Spark workers.');
});

test('CPU per image against ONNX Runtime stands with images per CPU-second, and the ratio per batch', () => {
  const text = section("### The model alone: CPU per image against ONNX Runtime's Python API");
  expect(text).toContain('| 1 | stratus, onnx | 20.0 µs (50,000/s) | 12.5 µs (80,000/s) |');
  expect(text).toContain('| stratus, onnx | 0.50× | 1.25× |');
});

test('serving against BentoML: every run at each connection count, ratios where both sides ran', () => {
  const text = section('### Serving against BentoML');
  expect(text).toContain('at 64 and 1000 connections');
  expect(text).toContain('| 1 | stratus | 1000 | 8,000 | 130 µs | 110 ms |');
  expect(text).toContain('| 1 | bentoml | 1000 | failed: wrk exited 1 |');
  expect(text).toContain('| 64 | 40.00× | 0.02× | 0.02× | 0.02× |');
  expect(text).toContain('| 1000 | n/a | n/a | n/a | n/a |');
});

test('failover: each fault with its time back to rate, p99 and max in the window, and its 504s', () => {
  const text = section('## Failover');
  expect(text).toContain('| broker SIGKILL | 3,000 | 2,990 | 10 | 0 | 2 s | 9 ms | 1093 ms | 1283 ms | 0 | 188 | 3 | 2.2 ms |');
  expect(text).toContain('the fault 5 s in, figures over the requests sent in the 15 s after it');
});

test('abuse: the probe and the normal client during each flood, n/a where nothing answered, a dead server said so', () => {
  const text = section('## Abuse: one hostile client');
  expect(text).toContain('| drawing | 8 | 400 sent, 380 answered (200 ×100, 429 ×280) | 1.5 ms / 6.0 ms / 12.0 ms | 3.5 ms / 14.0 ms / 28.0 ms | 200 ×79, 503 ×1, 2 ticks skipped | 2.50 ms | 260 MB | 0.3 s |');
  expect(text).toMatch(/\| pixels \| 64 \|[^\n]*\| n\/a \/ n\/a \/ n\/a \|[^\n]*\| server died \|/);
});

test('storage: bytes per prediction, the write rate from start to end, reads, and expiry that did not take everything', () => {
  const text = section('## Storage');
  expect(text).toContain('| pouchdb | 300,000 | 709 B | 18,417 → 17,924 (0.97) | 97 µs → 102 µs |');
  expect(text).toContain('97 µs (server 99 µs) → 102 µs (server 108 µs)');
  expect(text).toContain('**not all gone**');
  // The 5 s run's after-window p99 against its own before (15 / 20) and against its pair's 30 d run (15 / 25).
  expect(text).toContain('| 2 | 5s | 3.00 / 20 ms | 3.00 / 15 ms | 0.75× | 0.60× |');
  expect(text).toContain('7.3 s, 13, 7.9 s');
});

test('a bench that failed or was not asked for says why in its section, and draws no chart', () => {
  const { markdown: text, charts: none } = renderReport({
    ...base,
    benches: {
      ...BENCHES,
      failover: { status: 'failed', seconds: 480, error: 'failover: over its budget of 480 s' },
      abuse: { status: 'not run', reason: 'not asked for (--only)' },
    },
  });
  expect(text).toContain('Failover: failed after 480 s: failover: over its budget of 480 s.');
  expect(text).toContain('Abuse: not run: not asked for (--only).');
  expect(none.has('failover-latency.svg')).toBe(false);
  expect(none.has('abuse-p99.svg')).toBe(false);
});

test('results written before the benches were part of the report still render', () => {
  const { markdown: older, charts: fewer } = renderReport(base);
  expect(older).toContain("Failover: not in this run's results (written before the report ran it).");
  expect(older).not.toContain("The run's plan");
  expect(fewer.size).toBe(0);
});

test('every bench chart the report links to is rendered, and no chart goes unlinked', () => {
  const linked = [...markdown.matchAll(/!\[[^\]]*\]\(evaluation\/([^)]+)\)/g)].map((m) => m[1]!);
  expect(new Set(linked)).toEqual(new Set(charts.keys()));
  expect([...charts.keys()].sort()).toEqual(['abuse-p99.svg', 'failover-latency.svg', 'peers-inference.svg', 'peers-serving.svg', 'peers-training.svg', 'storage-retention-p99.svg', 'storage-write-rate.svg']);
  for (const svg of charts.values()) expect(svg).toContain('<svg');
  // A run that failed draws no bar: BentoML at 1,000 connections.
  expect(charts.get('peers-serving.svg')).toContain('n/a');
});
