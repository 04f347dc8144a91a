// Whether dropping expired data slows requests down: local mode under a steady load, with --retention 5s
// (a period database a second, swept every second once the first ones expire, ~7 s in) against the
// default retention (30d: nothing expires, and the sweep, every 60 s, does not even run in a shorter
// run), runs interleaved (30d, 5s, 30d, 5s, …)
// so that the machine's drift hits both alike.
//
//   bun run bench/retention.ts [--seconds 40] [--rate 2000] [--clients 64] [--pairs 2] [--warmup 1]
//                              [--before 6] [--after 8] [--settle 10] [--series] [--args='--max-batch 32']
//                              [--json FILE]
//
// Each run starts `bun src/main.ts --role all` as a child process on a fresh --data-dir, every flag at its
// default but --retention (and --args). An open-loop client offers --rate requests/s of real MNIST test
// digits to /api/predict for --seconds, spread over --clients users with a session cookie each (so every
// request also writes a history entry, and the per-client rate limit, 100/s, is never reached: 2,000/s
// over 64 clients is 31/s each). A request's latency runs from when it was due to be sent, so a client or
// server stall shows up in it. Meanwhile it watches the data directory: which period directories
// (`results-YYYYMMDD-HHMMSS`, `history-…`) disappear and when, its size, the server's CPU time
// (/proc/<pid>/stat) and resident memory.
//
// Printed per run: latency p50 / p99 / max of the requests due in [--warmup, --before) s (nothing has
// expired yet; the 5s runs already trim history, sessions pass their 100 entries after ~3 s) and in
// [--after, --seconds) s (the 5s runs drop a period every second), the ratio of the p99s; in the 5s
// runs also the latency of the after window's requests due near a drop (100 ms before to 400 ms after
// one was seen: the sweep drops first, then trims history) against the rest, when the first directory
// was dropped, how many sweeps were seen dropping, and the oldest period seen on disk (the retention
// promises ≤ 5 s + a period + a period's grace = 7 s, plus up to one sweep interval); statuses; the data
// directory's peak size, at the end of the load and --settle s later; server CPU per request in each
// window and over the load; client CPU per request (process.cpuUsage()); server RSS at the end.
// --series adds a line per second. Finally a table of every run. A run longer than 60 s also shows the
// default retention's first sweep, at 60 s, trimming a minute's worth of history over the limit in one go
// (the 5s runs trim every second). --json FILE: every run's figures as RetentionResults.
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Periods } from '../src/adapters/store/periods.ts';
import { percentile, testDigits } from '../test/e2e/load-client.ts';
import { MAIN, startProcess, type Started } from '../test/helpers/process.ts';
import { issuedSessions } from '../test/helpers/sessions.ts';
import { writeJsonResults } from './json-results.ts';

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '40' },
    rate: { type: 'string', default: '2000' },
    clients: { type: 'string', default: '64' },
    pairs: { type: 'string', default: '2' },
    warmup: { type: 'string', default: '1' },
    before: { type: 'string', default: '6' },
    after: { type: 'string', default: '8' },
    settle: { type: 'string', default: '10' },
    series: { type: 'boolean', default: false },
    args: { type: 'string', default: '' },
    json: { type: 'string' },
  },
});
const SECONDS = Number(flags.seconds);
const RATE = Number(flags.rate);
const CLIENTS = Number(flags.clients);
const PAIRS = Number(flags.pairs);
const WARMUP_MS = Number(flags.warmup) * 1000;
const BEFORE_MS = Number(flags.before) * 1000;
const AFTER_MS = Number(flags.after) * 1000;
const SETTLE_MS = Number(flags.settle) * 1000;
const EXTRA = flags.args.split(/\s+/).filter(Boolean);
if (![SECONDS, RATE, CLIENTS, PAIRS].every((n) => n > 0) || !(WARMUP_MS < BEFORE_MS && BEFORE_MS <= AFTER_MS && AFTER_MS < SECONDS * 1000) || !(SETTLE_MS >= 0)) {
  console.error('need positive --seconds, --rate, --clients, --pairs and --warmup < --before ≤ --after < --seconds, --settle ≥ 0');
  process.exit(2);
}

const TICKS_PER_SECOND = 100; // USER_HZ

/** The process's CPU seconds (all threads, user + system) and resident memory, from /proc. */
function processUsage(pid: number): { cpuSeconds: number; rssBytes: number } | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const rssPages = Number(fields[21]);
    return { cpuSeconds, rssBytes: rssPages * 4096 };
  } catch {
    return null;
  }
}

/** CPU seconds the whole machine spent busy (all cores, from /proc/stat): beside the server's and the
 * client's, it tells how much other work shared the cores during a run. */
function machineBusySeconds(): number {
  const fields = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return (user + nice + system + irq + softirq + steal) / TICKS_PER_SECOND;
}

/** Bytes of every file under `dir`; what disappears while it walks counts as nothing. */
async function sizeOf(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(entries.map((entry) => (entry.isDirectory() ? sizeOf(join(dir, entry.name)) : stat(join(dir, entry.name)).then((info) => info.size, () => 0))));
  return sizes.reduce((a, b) => a + b, 0);
}

interface Request {
  /** ms from the start of the load: when it was due, when it went out, when it was answered. */
  readonly dueAt: number;
  sentAt: number;
  doneAt: number;
  /** 0: a network error. */
  status: number;
}

interface Reading {
  readonly at: number;
  readonly bytes: number;
  readonly cpuSeconds: number;
  readonly rssBytes: number;
}

interface Drop {
  readonly at: number;
  readonly name: string;
}

export interface Window {
  readonly count: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  /** Server CPU per answered request, µs. */
  readonly cpuUs: number;
}

export interface RunResult {
  readonly label: string;
  readonly sent: number;
  readonly statuses: Map<number, number>;
  readonly before: Window;
  readonly after: Window;
  readonly firstDropAt: number | null;
  readonly drops: number;
  readonly sweepsSeen: number;
  readonly oldestPeriodS: number | null;
  /** After window, 5s runs: requests due from 100 ms before to 400 ms after a drop was seen (the sweep
   * drops first, then trims the sessions' history), and the rest. */
  readonly nearDrops: Window | null;
  readonly awayFromDrops: Window | null;
  readonly peakBytes: number;
  readonly endBytes: number;
  readonly settledBytes: number;
  readonly clientCpuUs: number;
  readonly serverCpuUs: number;
  readonly rssBytes: number;
  readonly maxLateMs: number;
  /** The machine's 1-minute load average when the run began. */
  readonly loadAverage: number;
  /** Cores' worth of CPU that neither the server nor this client used during the load: other work. */
  readonly otherCores: number;
}

const ms = (value: number) => `${value.toFixed(1)} ms`;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

function latencies(requests: readonly Request[]): number[] {
  return requests.filter((r) => r.status === 200).map((r) => r.doneAt - r.dueAt).sort((a, b) => a - b);
}

/** The reading nearest to `at`. */
function readingAt(readings: readonly Reading[], at: number): Reading {
  return readings.reduce((best, r) => (Math.abs(r.at - at) < Math.abs(best.at - at) ? r : best));
}

/** Latency figures of these requests (no CPU: they are not one stretch of time). */
function summary(requests: readonly Request[]): Window {
  const sorted = latencies(requests);
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0, cpuUs: 0 };
}

function window(requests: readonly Request[], readings: readonly Reading[], from: number, to: number): Window {
  const inside = requests.filter((r) => r.dueAt >= from && r.dueAt < to);
  const sorted = latencies(inside);
  const cpu = readingAt(readings, to).cpuSeconds - readingAt(readings, from).cpuSeconds;
  return { count: sorted.length, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted.at(-1) ?? 0, cpuUs: (cpu / Math.max(1, sorted.length)) * 1e6 };
}

async function run(label: string, retention: string | null, bodies: readonly string[], runIndex: number): Promise<RunResult> {
  const loadAverage = loadavg()[0] ?? 0;
  const dataDir = await mkdtemp(join(tmpdir(), 'stratus-bench-retention-'));
  const storeDir = join(dataDir, 'store');
  let server: Started | null = null;
  let logs: Promise<string> = Promise.resolve('');
  try {
    server = await startProcess([process.execPath, MAIN], ['--data-dir', dataDir, ...(retention ? ['--retention', retention] : []), ...EXTRA]);
    const { url, proc } = server;
    // Drained as it comes (a full pipe would stall the server); shown if it says anything.
    logs = Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]).then(([out, err]) => `${out}${err}`, () => '');

    const requests: Request[] = [];
    const readings: Reading[] = [];
    const drops: Drop[] = [];
    let oldestPeriodMs = 0;
    const began = performance.now();
    const now = () => performance.now() - began;
    let watching = true;

    // Period directories every 100 ms (when each disappears), size, CPU and memory every 250 ms.
    const watcher = (async () => {
      let seen = new Set<string>();
      let nextReading = 0;
      while (watching) {
        const at = now();
        const names = new Set((await readdir(storeDir).catch(() => [] as string[])).filter((name) => Periods.parse(name) !== null));
        for (const name of seen) if (!names.has(name)) drops.push({ at, name });
        seen = names;
        if (retention !== null) {
          for (const name of names) oldestPeriodMs = Math.max(oldestPeriodMs, Date.now() - (Periods.parse(name)?.start ?? Date.now()));
        }
        if (at >= nextReading) {
          const usage = processUsage(proc.pid);
          if (usage) readings.push({ at, bytes: await sizeOf(dataDir), ...usage });
          nextReading = at + 250;
        }
        await Bun.sleep(100);
      }
    })();

    // Open loop: request k is due at k / rate, from client k mod clients, whatever is still outstanding.
    // Sessions the server issued: one it did not sign would count as the address, and every client as one.
    const cookies = await issuedSessions(url, CLIENTS);
    const cpuBefore = process.cpuUsage();
    const machineBefore = machineBusySeconds();
    const serverBefore = processUsage(proc.pid)?.cpuSeconds ?? 0;
    const total = Math.floor(SECONDS * RATE);
    const pending: Promise<void>[] = [];
    let next = 0;
    const send = async (k: number) => {
      const request: Request = { dueAt: (k * 1000) / RATE, sentAt: now(), doneAt: 0, status: 0 };
      requests.push(request);
      try {
        const response = await fetch(`${url}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie: cookies[k % CLIENTS] as string },
          body: bodies[k % bodies.length] as string,
        });
        await response.arrayBuffer();
        request.status = response.status;
      } catch {
        request.status = 0;
      }
      request.doneAt = now();
    };
    while (next < total) {
      const due = Math.min(total, Math.floor((now() * RATE) / 1000) + 1);
      while (next < due) pending.push(send(next++));
      await Bun.sleep(1);
    }
    await Promise.all(pending);
    const loadEnd = now();
    const cpu = process.cpuUsage(cpuBefore);
    const atLoadEnd = processUsage(proc.pid);
    const machineSpent = machineBusySeconds() - machineBefore;
    const otherCores = Math.max(0, machineSpent - ((atLoadEnd?.cpuSeconds ?? serverBefore) - serverBefore) - (cpu.user + cpu.system) / 1e6) / (loadEnd / 1000);
    const endBytes = await sizeOf(dataDir);
    await Bun.sleep(SETTLE_MS);
    watching = false;
    await watcher;
    const settledBytes = await sizeOf(dataDir);
    const last = processUsage(proc.pid);

    const statuses = new Map<number, number>();
    for (const r of requests) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    const answered = statuses.get(200) ?? 0;
    const end = SECONDS * 1000;
    const before = window(requests, readings, WARMUP_MS, BEFORE_MS);
    const after = window(requests, readings, AFTER_MS, end);
    const duringLoad = drops.filter((drop) => drop.at <= loadEnd);
    // Sweeps seen dropping: drops more than 150 ms apart (one poll) are different sweeps.
    const sweepsSeen = duringLoad.filter((drop, i) => i === 0 || drop.at - (duringLoad[i - 1] as Drop).at > 150).length;
    const moments = duringLoad.map((drop) => drop.at);
    const near = (r: Request) => moments.some((at) => r.dueAt >= at - 100 && r.dueAt < at + 400);
    const afterWindow = requests.filter((r) => r.dueAt >= AFTER_MS && r.dueAt < end);
    const nearDrops = retention !== null ? summary(afterWindow.filter(near)) : null;
    const awayFromDrops = retention !== null ? summary(afterWindow.filter((r) => !near(r))) : null;
    const peakBytes = Math.max(endBytes, ...readings.map((r) => r.bytes));
    const result: RunResult = {
      label,
      sent: requests.length,
      statuses,
      before,
      after,
      firstDropAt: drops[0]?.at ?? null,
      drops: duringLoad.length,
      sweepsSeen,
      oldestPeriodS: retention !== null ? oldestPeriodMs / 1000 : null,
      nearDrops,
      awayFromDrops,
      peakBytes,
      endBytes,
      settledBytes,
      clientCpuUs: ((cpu.user + cpu.system) / Math.max(1, answered)),
      serverCpuUs: (((atLoadEnd?.cpuSeconds ?? serverBefore) - serverBefore) / Math.max(1, answered)) * 1e6,
      rssBytes: last?.rssBytes ?? 0,
      maxLateMs: requests.reduce((max, r) => Math.max(max, r.sentAt - r.dueAt), 0),
      loadAverage,
      otherCores,
    };
    print(result, runIndex);
    if (flags.series) printSeries(requests, drops, readings);
    return result;
  } finally {
    if (server) {
      server.proc.kill('SIGTERM');
      await server.proc.exited;
    }
    const log = await logs;
    if (log.trim() !== '') console.log(`  server log:\n${log.trim().split('\n').slice(-20).map((line) => `    ${line}`).join('\n')}`);
    await rm(dataDir, { recursive: true, force: true });
  }
}

function print(r: RunResult, runIndex: number): void {
  const fivexx = [...r.statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
  console.log(`run ${runIndex + 1}/${PAIRS * 2}: retention ${r.label}, ${r.sent} requests offered at ${RATE}/s over ${SECONDS} s by ${CLIENTS} clients; load average ${r.loadAverage.toFixed(2)} at the start; other processes used ${r.otherCores.toFixed(2)} cores during the load`);
  console.log(`  statuses ${JSON.stringify(Object.fromEntries(r.statuses))}; 5xx ${fivexx}; client at most ${ms(r.maxLateMs)} late sending`);
  const line = (name: string, w: Window) =>
    `  ${name.padEnd(24)} n ${String(w.count).padStart(6)}  p50 ${ms(w.p50).padStart(9)}  p99 ${ms(w.p99).padStart(9)}  max ${ms(w.max).padStart(9)}  server CPU ${w.cpuUs.toFixed(0)} µs/request`;
  console.log(line(`before, ${WARMUP_MS / 1000}–${BEFORE_MS / 1000} s`, r.before));
  console.log(line(`after, ${AFTER_MS / 1000}–${SECONDS} s`, r.after));
  console.log(`  p99 after / before: ${(r.after.p99 / r.before.p99).toFixed(2)}×`);
  if (r.oldestPeriodS !== null) {
    console.log(
      `  sweeps: first directory dropped at ${r.firstDropAt === null ? 'never' : `${(r.firstDropAt / 1000).toFixed(1)} s`}; ${r.drops} dropped during the load, ` +
        `by ${r.sweepsSeen} sweeps seen; oldest period on disk ${r.oldestPeriodS.toFixed(1)} s old; ` +
        `after window near a drop (−100…+400 ms) n ${r.nearDrops?.count ?? 0} p50 ${ms(r.nearDrops?.p50 ?? 0)} p99 ${ms(r.nearDrops?.p99 ?? 0)} max ${ms(r.nearDrops?.max ?? 0)}, ` +
        `away from drops n ${r.awayFromDrops?.count ?? 0} p50 ${ms(r.awayFromDrops?.p50 ?? 0)} p99 ${ms(r.awayFromDrops?.p99 ?? 0)} max ${ms(r.awayFromDrops?.max ?? 0)}`,
    );
  }
  console.log(
    `  data dir: peak ${mib(r.peakBytes)}, end of load ${mib(r.endBytes)}, ${SETTLE_MS / 1000} s later ${mib(r.settledBytes)}; ` +
      `CPU per answered request: server ${r.serverCpuUs.toFixed(0)} µs, client ${r.clientCpuUs.toFixed(0)} µs; server RSS ${mib(r.rssBytes)}`,
  );
}

function printSeries(requests: readonly Request[], drops: readonly Drop[], readings: readonly Reading[]): void {
  for (let second = 0; second < SECONDS; second++) {
    const sorted = latencies(requests.filter((r) => Math.floor(r.dueAt / 1000) === second));
    const dropped = drops.filter((drop) => Math.floor(drop.at / 1000) === second).length;
    const reading = readingAt(readings, second * 1000 + 999);
    console.log(
      `    ${String(second).padStart(3)} s: n ${String(sorted.length).padStart(5)}  p50 ${ms(percentile(sorted, 0.5)).padStart(9)}  p99 ${ms(percentile(sorted, 0.99)).padStart(9)}  ` +
        `dropped ${dropped}  dir ${mib(reading.bytes)}  server RSS ${mib(reading.rssBytes)}`,
    );
  }
}

/** What --json writes: the settings and every run, in the order run (30d, 5s, 30d, 5s …). */
export interface RetentionResults {
  readonly seconds: number;
  readonly rate: number;
  readonly clients: number;
  readonly windows: { readonly before: readonly [number, number]; readonly after: readonly [number, number] };
  readonly runs: readonly (Omit<RunResult, 'statuses'> & { readonly statuses: Record<string, number> })[];
}

const digits = testDigits(256);
console.log(
  `retention bench: ${navigator.hardwareConcurrency} cores; bun src/main.ts --role all, pouchdb store, ${EXTRA.length ? EXTRA.join(' ') : 'default flags'}; ` +
    `windows: before ${WARMUP_MS / 1000}–${BEFORE_MS / 1000} s, after ${AFTER_MS / 1000}–${SECONDS} s`,
);
const results: RunResult[] = [];
for (let pair = 0; pair < PAIRS; pair++) {
  results.push(await run('30d (default)', null, digits.bodies, pair * 2));
  results.push(await run('5s', '5s', digits.bodies, pair * 2 + 1));
}
await writeJsonResults(flags.json, {
  seconds: SECONDS,
  rate: RATE,
  clients: CLIENTS,
  windows: { before: [WARMUP_MS / 1000, BEFORE_MS / 1000], after: [AFTER_MS / 1000, SECONDS] },
  runs: results.map((r) => ({ ...r, statuses: Object.fromEntries(r.statuses) })),
} satisfies RetentionResults);
console.log(`\n| run | retention | before p50 / p99 | after p50 / p99 | p99 after / before | p99 after / the pair's 30d p99 after | max | 5xx | other errors | dir peak → ${SETTLE_MS / 1000} s after | server CPU/request | client CPU/request | oldest period on disk | other processes |`);
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
results.forEach((r, i) => {
  const fivexx = [...r.statuses].filter(([status]) => status >= 500).reduce((sum, [, n]) => sum + n, 0);
  const other = [...r.statuses].filter(([status]) => status !== 200 && status < 500).reduce((sum, [, n]) => sum + n, 0);
  const baseline = i % 2 === 1 ? (results[i - 1] as RunResult) : null;
  console.log(
    `| ${i + 1} | ${r.label} | ${ms(r.before.p50)} / ${ms(r.before.p99)} | ${ms(r.after.p50)} / ${ms(r.after.p99)} | ${(r.after.p99 / r.before.p99).toFixed(2)}× | ` +
      `${baseline ? `${(r.after.p99 / baseline.after.p99).toFixed(2)}×` : ''} | ${ms(Math.max(r.before.max, r.after.max))} | ${fivexx} | ${other} | ` +
      `${mib(r.peakBytes)} → ${mib(r.settledBytes)} | ${r.serverCpuUs.toFixed(0)} µs | ${r.clientCpuUs.toFixed(0)} µs | ${r.oldestPeriodS === null ? '' : `${r.oldestPeriodS.toFixed(1)} s`} | ${r.otherCores.toFixed(2)} cores |`,
  );
});
