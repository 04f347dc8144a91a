// Failover under steady load. Cluster mode as an operator runs it, every flag at its default: two
// gateways, two consumers, three Kafka brokers (replication 3) with three controllers of their own, and
// the CouchDB-API server, all on this machine. An open-loop client offers --rate requests/s of real MNIST digits, spread over the gateways,
// each with an Idempotency-Key and as one of USERS users (a session cookie each: the gateway's rate limits
// are per client, and this is many clients' traffic, not one client's flood); a gateway that stops answering is dropped and its requests are sent again,
// same key, to the other (what a load balancer and a retrying client do). One fault per scenario, after
// --before seconds; then --after seconds of load. For each scenario it prints, over the requests sent in
// the --after window: how many, answered, 504s, other errors, retries at another gateway, p50 / p99 /
// max latency (retries included), the seconds until the answered rate is back within 10 % of its level
// before the fault, the gateways' hedges and idempotent replays, and the CPU the Stratus processes spent
// per answered request over the whole scenario (a process killed in it counts until its last reading).
//
//   bun run bench/failover.ts [--rate 200] [--before 5] [--after 20]
//                             [--scenarios none,consumer-kill,consumer-restart,consumer-hang,gateway-kill,couchdb-restart,broker-kill,controller-kill]
//                             [--role-flags="--hedge-after-ms 0"]     (to see a flag's effect)
//                             [--warmup 15] [--settle 12] [--json FILE]
// --warmup: seconds of load before the first scenario; --settle: seconds after each scenario's mend for a
// rejoining member's rebalance. --json FILE: every scenario's row as FailoverResults.
import { parseArgs } from 'node:util';
import { startPrivateCluster } from '../test/helpers/cluster-services.ts';
import { startPouchServer } from '../test/helpers/couch-server.ts';
import { ProcessGroup, withLogs, type ClusterTarget, type RoleProcess } from '../test/e2e/cluster-processes.ts';
import { percentile, testDigits } from '../test/e2e/load-client.ts';
import { issuedSessions } from '../test/helpers/sessions.ts';
import { writeJsonResults } from './json-results.ts';
import { threadCpu } from './thread-cpu.ts';

const { values: flags } = parseArgs({
  options: {
    rate: { type: 'string', default: '200' },
    before: { type: 'string', default: '5' },
    after: { type: 'string', default: '20' },
    scenarios: { type: 'string', default: 'none,consumer-kill,consumer-restart,consumer-hang,gateway-kill,couchdb-restart,broker-kill,controller-kill' },
    'role-flags': { type: 'string', default: '' },
    warmup: { type: 'string', default: '15' },
    settle: { type: 'string', default: '12' },
    json: { type: 'string' },
  },
});
const RATE = Number(flags.rate);
/** Users the load is spread over: 200 requests/s is 2 a second each, far below one client's limit. */
const USERS = 100;
const BEFORE_MS = Number(flags.before) * 1000;
const AFTER_MS = Number(flags.after) * 1000;
const ROLE_FLAGS = flags['role-flags'] ? flags['role-flags'].split(/\s+/) : [];
const SCENARIOS = flags.scenarios.split(',');
const WARMUP_MS = Number(flags.warmup) * 1000;
const SETTLE_MS = Number(flags.settle) * 1000;
if (!(RATE > 0) || !(BEFORE_MS > 0) || !(AFTER_MS > 0) || !(WARMUP_MS >= 0) || !(SETTLE_MS >= 0)) {
  console.error('--rate, --before and --after must be positive numbers, --warmup and --settle not negative');
  process.exit(2);
}

/** One scenario's figures over the requests sent in the window after its fault. */
export interface FailoverRow {
  readonly scenario: string;
  readonly sent: number;
  readonly answered: number;
  readonly '504': number;
  readonly errors: number;
  readonly retried: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Seconds after the fault until the answered rate stayed within 10 % of its level before. */
  readonly recoveryS: number;
  readonly hedges: number;
  readonly replays: number;
  readonly cpuPerAnswerUs: number;
}

/** What --json writes. */
export interface FailoverResults {
  readonly rate: number;
  readonly beforeSeconds: number;
  readonly afterSeconds: number;
  readonly roleFlags: string;
  readonly rows: readonly FailoverRow[];
}

interface Outcome {
  readonly sentAt: number;
  readonly doneAt: number;
  readonly kind: 'ok' | '504' | 'error';
  readonly retries: number;
}

const digits = testDigits(2_000);

/** Offers RATE requests/s until `stop`, round the live gateways; resolves with every outcome. */
async function offerLoad(live: string[], stop: Promise<void>, runId: string, sessions: readonly string[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  const inFlight = new Set<Promise<void>>();
  let stopped = false;
  void stop.then(() => (stopped = true));
  let sent = 0;
  let turn = 0;
  const started = performance.now();
  const one = async (index: number) => {
    const sentAt = performance.now();
    let retries = 0;
    for (;;) {
      const gateway = live[turn++ % live.length];
      if (!gateway) return void outcomes.push({ sentAt, doneAt: performance.now(), kind: 'error', retries });
      try {
        const response = await fetch(`${gateway}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'idempotency-key': `${runId}-${index}`, cookie: sessions[index % USERS] as string },
          body: digits.bodies[index % digits.bodies.length] as string,
        });
        await response.arrayBuffer();
        if (response.status === 503) {
          await Bun.sleep(100);
          continue;
        }
        const kind = response.ok ? 'ok' : response.status === 504 ? '504' : 'error';
        return void outcomes.push({ sentAt, doneAt: performance.now(), kind, retries });
      } catch {
        const at = live.indexOf(gateway);
        if (at !== -1) live.splice(at, 1);
        retries++;
      }
    }
  };
  while (!stopped) {
    // Open loop: as many as the clock says are due, whatever is still in flight.
    const due = Math.floor(((performance.now() - started) / 1000) * RATE);
    while (sent < due) {
      const request = one(sent++);
      inFlight.add(request);
      void request.finally(() => inFlight.delete(request));
    }
    await Bun.sleep(5);
  }
  await Promise.all(inFlight);
  return outcomes;
}


/** Seconds after the fault until the answered rate (1 s buckets) stays within 10 % of its level before. */
function recoverySeconds(outcomes: Outcome[], faultAt: number): number {
  const bucketOf = (t: number) => Math.floor((t - faultAt) / 1000);
  const counts = new Map<number, number>();
  for (const o of outcomes) if (o.kind === 'ok') counts.set(bucketOf(o.doneAt), (counts.get(bucketOf(o.doneAt)) ?? 0) + 1);
  const beforeBuckets = Array.from({ length: Math.floor(BEFORE_MS / 1000) - 1 }, (_, i) => counts.get(-2 - i) ?? 0);
  const level = beforeBuckets.reduce((a, b) => a + b, 0) / Math.max(1, beforeBuckets.length);
  let lastLow = -1;
  for (let b = 0; b < AFTER_MS / 1000 - 1; b++) if ((counts.get(b) ?? 0) < level * 0.9) lastLow = b;
  return lastLow + 1;
}

const counter = (text: string, pattern: RegExp) => Number(text.match(pattern)?.[1] ?? 0);
const HEDGES = /^stratus_hedges_total\{outcome="sent"\} (\d+)/m;
const REPLAYS = /^stratus_idempotent_replays_total (\d+)/m;

const kafka = await startPrivateCluster(3);
if (!kafka) {
  console.error('bench/failover.ts needs Java and Maven for the Kafka brokers (see docs/development.md)');
  process.exit(1);
}
const couch = await startPouchServer({ inMemory: false });
const group = new ProcessGroup();
const target: ClusterTarget = { kafkaBrokers: kafka.kafkaBrokers, couchdbUrl: couch.url, prefix: `failover_${Date.now()}_`, replication: 3 };
const start = (role: 'gateway' | 'consumer') => group.start(role, target, ROLE_FLAGS);
// As ops/k8s runs them: each consumer the static member of its pod's name, the same for whoever takes its place.
const startConsumer = (slot: number) => group.start('consumer', target, [...ROLE_FLAGS, '--kafka-group-instance-id', `stratus-consumer-${slot}`]);
const rows: string[] = [];
const figures: FailoverRow[] = [];
try {
  const consumers: RoleProcess[] = [startConsumer(0), startConsumer(1)];
  const gateways: RoleProcess[] = [start('gateway'), start('gateway')];
  await withLogs(group, () => Promise.all([...consumers, ...gateways].map((p) => p.waitReady())));
  // Warm-up: JIT, connections, the consumers' first model calls, the brokers' JVMs.
  const warm = Promise.withResolvers<void>();
  setTimeout(warm.resolve, WARMUP_MS);
  // Issued once, by the first gateway; the others, and any started in a gateway's place, know them (the
  // group gives every gateway one session key). Issued inside each scenario, they took seconds of its
  // --before on a busy machine: the fault's timer runs from the scenario's start, so the load began late.
  const sessions = await issuedSessions(gateways[0]!.url, USERS);
  await offerLoad(gateways.map((g) => g.url), warm.promise, `warm-${Date.now()}`, sessions);

  const faults: Record<string, { strike: () => Promise<void>; mend: () => Promise<void> }> = {
    // No fault: the same load's figures, for comparison.
    none: { strike: async () => {}, mend: async () => {} },
    'consumer-kill': {
      strike: async () => void consumers[1]!.proc.kill('SIGKILL'),
      mend: async () => void (consumers[1] = startConsumer(1)),
    },
    'consumer-hang': {
      strike: async () => void consumers[1]!.proc.kill('SIGSTOP'),
      mend: async () => {
        consumers[1]!.proc.kill('SIGKILL');
        consumers[1] = startConsumer(1);
      },
    },
    // Killed and started again at once, as Kubernetes restarts a container in its pod.
    'consumer-restart': {
      strike: async () => {
        consumers[1]!.proc.kill('SIGKILL');
        consumers[1] = startConsumer(1);
      },
      mend: () => consumers[1]!.waitReady(),
    },
    'gateway-kill': {
      strike: async () => void gateways[1]!.proc.kill('SIGKILL'),
      mend: async () => void (gateways[1] = start('gateway')),
    },
    'broker-kill': {
      strike: () => kafka.control('stop-broker', '2', '--kill'),
      mend: () => kafka.control('start-broker', '2'),
    },
    'controller-kill': {
      strike: () => kafka.control('stop-controller', 'leader', '--kill'),
      mend: () => kafka.control('start-controller', 'all'),
    },
    'couchdb-restart': {
      strike: async () => {
        await couch.kill();
        await Bun.sleep(3_000);
        await couch.start();
      },
      mend: async () => {},
    },
  };
  console.log(`rate ${RATE}/s, fault after ${BEFORE_MS / 1000} s, window ${AFTER_MS / 1000} s, role flags: ${ROLE_FLAGS.join(' ') || '(defaults)'}`);
  for (const name of SCENARIOS) {
    const fault = faults[name];
    if (!fault) throw new Error(`unknown scenario ${name}; known: ${Object.keys(faults).join(', ')}`);
    const countersBefore = await Promise.all(gateways.map(async (g) => g.metrics().catch(() => '')));
    // CPU seconds by pid, read every 200 ms: a process that dies keeps its last reading.
    const cpu = new Map<number, { first: number; last: number }>();
    const readCpu = () => {
      for (const role of [...gateways, ...consumers]) {
        const total = [...threadCpu(role.proc.pid).values()].reduce((a, b) => a + b, 0);
        if (total === 0) continue;
        const seen = cpu.get(role.proc.pid);
        if (seen) seen.last = total;
        else cpu.set(role.proc.pid, { first: total, last: total });
      }
    };
    readCpu();
    const cpuSampler = setInterval(readCpu, 200);
    const done = Promise.withResolvers<void>();
    let faultAt = 0;
    setTimeout(() => {
      faultAt = performance.now();
      void fault.strike();
    }, BEFORE_MS);
    setTimeout(done.resolve, BEFORE_MS + AFTER_MS);
    const outcomes = await offerLoad(gateways.map((g) => g.url), done.promise, `${name}-${Date.now()}`, sessions);
    clearInterval(cpuSampler);
    readCpu();
    const cpuSeconds = [...cpu.values()].reduce((sum, { first, last }) => sum + (last - first), 0);
    const countersAfter = await Promise.all(gateways.map(async (g) => g.metrics().catch(() => '')));
    const delta = (pattern: RegExp) => countersAfter.reduce((sum, text, i) => sum + Math.max(0, counter(text, pattern) - counter(countersBefore[i] ?? '', pattern)), 0);
    const window = outcomes.filter((o) => o.sentAt >= faultAt);
    const latencies = window.filter((o) => o.kind === 'ok').map((o) => o.doneAt - o.sentAt).sort((a, b) => a - b);
    const row: FailoverRow = {
      scenario: name,
      sent: window.length,
      answered: window.filter((o) => o.kind === 'ok').length,
      '504': window.filter((o) => o.kind === '504').length,
      errors: window.filter((o) => o.kind === 'error').length,
      retried: window.filter((o) => o.retries > 0).length,
      p50: Math.round(percentile(latencies, 0.5)),
      p99: Math.round(percentile(latencies, 0.99)),
      max: Math.round(latencies.at(-1) ?? 0),
      recoveryS: recoverySeconds(outcomes, faultAt),
      hedges: delta(HEDGES),
      replays: delta(REPLAYS),
      cpuPerAnswerUs: Math.round((cpuSeconds / Math.max(1, outcomes.filter((o) => o.kind === 'ok').length)) * 1e6),
    };
    console.log(JSON.stringify(row));
    figures.push(row);
    rows.push(`| ${row.scenario} | ${row.sent} | ${row.answered} | ${row['504']} | ${row.errors} | ${row.retried} | ${row.p50} ms | ${row.p99} ms | ${row.max} ms | ${row.recoveryS} s | ${row.hedges} | ${row.replays} | ${row.cpuPerAnswerUs} µs |`);
    await fault.mend();
    await withLogs(group, () => Promise.all([...consumers, ...gateways].map((p) => p.waitReady())));
    // Let a rejoining member's rebalance settle before the next fault.
    await Bun.sleep(SETTLE_MS);
  }
  console.log('\n| scenario | sent | answered | 504 | other errors | retried at the other gateway | p50 | p99 | max | back to rate after | hedges | replays | Stratus CPU per answer |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const row of rows) console.log(row);
} finally {
  // Written even when a scenario threw: the rows before it stand.
  await writeJsonResults(flags.json, { rate: RATE, beforeSeconds: BEFORE_MS / 1000, afterSeconds: AFTER_MS / 1000, roleFlags: ROLE_FLAGS.join(' '), rows: figures } satisfies FailoverResults);
  await group.dispose();
  await couch.stop();
  await kafka.down();
}
