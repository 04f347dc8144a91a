// Results of the benches the report runs, as their --json files would hold them: small, with a failed run
// and a run without an answer in each place the report has to say so.
import type { AbuseWindowResult } from '../../bench/abuse.ts';
import type { BenchRun } from '../../bench/report/bench-script.ts';
import type { BenchResults, PlanLine } from '../../bench/report/results.ts';

const ok = <T>(value: T, extra: Partial<BenchRun<T>> = {}) => ({
  status: 'ok' as const,
  seconds: 60,
  load: { mean: 2.5, max: 3 },
  value: { command: 'bun run bench/x.ts', value, exitCode: 0, files: ['docs/evaluation/raw/benches/x.json'], ...extra },
});

const latency = (p50: number) => ({ p50, p90: p50 * 2, p99: p50 * 4, max: p50 * 8 });
const wrk = (rate: number, p50: number) => ({ rate, ok: rate * 8, errors: 0, latencyMs: { p50, p90: p50 * 2, p99: p50 * 5, max: p50 * 10 }, clientCpuSeconds: 1 });
const trainingRun = (who: string, trainSeconds: number, cpu: number, accuracy: number) => ({ who, trainSamples: 54_000, trainSeconds, wallSeconds: trainSeconds + 10, testAccuracy: accuracy, cpuMsPer1000Samples: cpu });
const storeRun = (store: 'pouchdb' | 'couchdb', first5: number, last5: number) => ({
  store,
  where: `${store} somewhere`,
  count: 300_000,
  seconds: 20,
  rate: { whole: 15_000, first5, last5, lastOverFirst: last5 / first5 },
  cpuMicrosPerResult: { first5: 97, last5: 102, serverFirst5: store === 'couchdb' ? 99 : null, serverLast5: store === 'couchdb' ? 108 : null },
  tenths: [10, 20, 30].map((percent) => ({ percent, resultsPerSecond: first5 - percent })),
  diskBytes: 212_700_000,
  bytesPerPrediction: 709,
  historyMs: { p50: 5.4, p99: 16 },
  getResultMs: { p50: 0.32, p99: 2.1 },
  expiry: { ms: 2100, bytesTakenBack: 212_000_000, databasesLeft: 0, allGone: store === 'pouchdb' },
});
const retentionRun = (label: string, beforeP99: number, afterP99: number, swept: boolean) => ({
  label,
  sent: 40_000,
  statuses: { 200: 39_990, 503: 10 },
  before: { count: 10_000, p50: 3, p99: beforeP99, max: 40, cpuUs: 300 },
  after: { count: 24_000, p50: 3, p99: afterP99, max: 60, cpuUs: 320 },
  firstDropAt: swept ? 7_300 : null,
  drops: swept ? 26 : 0,
  sweepsSeen: swept ? 13 : 0,
  oldestPeriodS: swept ? 7.9 : null,
  nearDrops: null,
  awayFromDrops: null,
  peakBytes: 30e6,
  endBytes: 20e6,
  settledBytes: 0.4e6,
  clientCpuUs: 80,
  serverCpuUs: 310,
  rssBytes: 200e6,
  maxLateMs: 3,
  loadAverage: 2,
  otherCores: 0.2,
});

const ABUSE_WINDOWS: AbuseWindowResult[] = [
  { kind: 'idle', connections: 0, flood: null, slow: null, probe: { latency: latency(0.5), statuses: { 200: 160 }, skipped: 0 }, normal: { latency: latency(3), statuses: { 200: 80 }, skipped: 0 }, server: { alive: true, rssPeakMb: 180, cpuSeconds: 1, cpuMsPerAnswer: 0.4 }, recoverySeconds: null },
  { kind: 'drawing', connections: 8, flood: { sent: 400, answered: 380, statuses: { 200: 100, 429: 280 }, unanswered: 20 }, slow: null, probe: { latency: latency(1.5), statuses: { 200: 160 }, skipped: 0 }, normal: { latency: latency(3.5), statuses: { 200: 79, 503: 1 }, skipped: 2 }, server: { alive: true, rssPeakMb: 260, cpuSeconds: 14, cpuMsPerAnswer: 2.5 }, recoverySeconds: 0.3 },
  // No answer at all in the window: JSON has null where the bench had NaN.
  { kind: 'pixels', connections: 64, flood: { sent: 0, answered: 0, statuses: {}, unanswered: 0 }, slow: null, probe: { latency: { p50: null, p90: null, p99: null, max: null } as never, statuses: {}, skipped: 0 }, normal: { latency: latency(4), statuses: { 200: 80 }, skipped: 0 }, server: { alive: false, rssPeakMb: 300, cpuSeconds: 15, cpuMsPerAnswer: 3 }, recoverySeconds: null },
];

export const BENCHES: BenchResults = {
  'peers-training': ok(
    {
      epochs: 1,
      maxSamples: null,
      rounds: 2,
      cpu: '2 × AMD EPYC',
      runs: [
        { round: 1, who: 'keras', run: trainingRun('keras', 6.75, 166, 0.9871) },
        { round: 1, who: 'stratus w2', run: trainingRun('stratus w2', 5.4, 198, 0.9859) },
        { round: 2, who: 'keras', error: 'keras_train.py exited 137' },
        { round: 2, who: 'stratus w2', run: trainingRun('stratus w2', 5.4, 198, 0.9859) },
      ],
      cpuCounted: { keras: 'the whole process', 'stratus w2': 'the trainer process' },
      versions: { keras: 'tensorflow 2.21.0, keras 3.15.1' },
    },
    { exitCode: 1, note: 'exited with 1: round 2 keras FAILED' },
  ),
  'peers-inference': ok({
    model: 'lean-1',
    seconds: 2,
    rounds: 1,
    batches: [1, 64],
    peerVersions: '{"onnxruntime":"1.31.1"}',
    measurements: [
      { round: 1, who: 'ONNX Runtime (Python)', batch: 1, cpuMicrosPerImage: 40 },
      { round: 1, who: 'ONNX Runtime (Python)', batch: 64, cpuMicrosPerImage: 10 },
      { round: 1, who: 'stratus, onnx', batch: 1, cpuMicrosPerImage: 20 },
      { round: 1, who: 'stratus, onnx', batch: 64, cpuMicrosPerImage: 12.5 },
    ],
  }),
  'peers-serving': ok({
    seconds: 8,
    rounds: 1,
    connections: [64, 1000],
    versions: { bentoml: 'bentoml 1.4.29', stratus: 'sources under bun 1.4.4' },
    runs: [
      { round: 1, who: 'bentoml', connections: 64, run: { who: 'bentoml', connections: 64, load: wrk(228, 300), cpuMicrosPerRequest: 6300 } },
      { round: 1, who: 'bentoml', connections: 1000, error: 'wrk exited 1' },
      { round: 1, who: 'stratus', connections: 64, run: { who: 'stratus', connections: 64, load: wrk(9120, 7), cpuMicrosPerRequest: 120 } },
      { round: 1, who: 'stratus', connections: 1000, run: { who: 'stratus', connections: 1000, load: wrk(8000, 110), cpuMicrosPerRequest: 130 } },
    ],
  }),
  failover: ok({
    rate: 200,
    beforeSeconds: 5,
    afterSeconds: 15,
    roleFlags: '',
    rows: [
      { scenario: 'none', sent: 3000, answered: 3000, '504': 0, errors: 0, retried: 0, p50: 13, p99: 49, max: 94, recoveryS: 0, hedges: 0, replays: 0, cpuPerAnswerUs: 2400 },
      { scenario: 'broker-kill', sent: 3000, answered: 2990, '504': 10, errors: 0, retried: 0, p50: 9, p99: 1093, max: 1283, recoveryS: 2, hedges: 188, replays: 3, cpuPerAnswerUs: 2200 },
    ],
  }),
  abuse: ok({
    seconds: 8,
    server: 'sources under bun',
    targets: { liveP99Ms: 20, normalP99Ms: 100, ratioToIdle: 2 },
    windows: ABUSE_WINDOWS,
  }),
  retention: ok({
    seconds: 20,
    rate: 2000,
    clients: 64,
    windows: { before: [1, 6], after: [8, 20] },
    runs: [retentionRun('30d (default)', 20, 25, false), retentionRun('5s', 20, 15, true)],
  }),
  'store-scale': ok({ batch: 64, concurrency: 4, sessions: 10_000, reads: 1000, retentionDays: 30, runs: [storeRun('pouchdb', 18_417, 17_924), storeRun('couchdb', 15_666, 14_960)] }),
};

export const PLAN: PlanLine[] = [
  { experiment: 'local', parameters: '30 Locust runs of 30 s', budgetMinutes: 66, expectedMinutes: 19.5 },
  { experiment: 'failover', parameters: 'bench/failover.ts --rate 200', budgetMinutes: 8, expectedMinutes: 4.5 },
];
