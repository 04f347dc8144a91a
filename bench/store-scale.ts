// Scale test of the stores (a benchmark, not in CI): loads N predictions into a store, each in one of
// --sessions sessions (so the history grows too), the way a consumer writes them (--batch results a
// saveResults call, --concurrency calls in flight), then measures:
// 1. the write rate (results/s) and this process's CPU per result over the first 5 % and the last 5 % of
//    the load, and their ratio (the issue's bound: the end no more than 20 % slower), with a line every
//    10 % of the load (rate, CPU, ms per call and disk so far) so that a long run shows it is alive;
// 2. sessionHistory(session, 50) p50/p99 over --reads random sessions, and getResult(id)
//    p50/p99 over --reads ids sampled during the load (a reservoir of 10,000: no list of N ids is kept),
//    one call at a time with no writes going on;
// 3. bytes on disk per prediction: du of the store's files after the load, over N;
// 4. expiry: the number of period databases, then the time sweep(now + retention + 2 periods) takes to
//    drop every one, the disk bytes before and after (space taken back), and that getResult of a sampled
//    id then answers null.
//
//   bun run bench/store-scale.ts [--store pouchdb|couchdb|both] [--count N | --pouch-count N --couch-count N]
//                                [--batch 64] [--concurrency 4] [--sessions 10000] [--reads 2000]
//                                [--retention-days 30] [--images] [--couch-interval-ms 0] [--dir DIR] [--keep]
//                                [--json FILE]
//
// --json FILE: each store's figures as StoreScaleResults.
// pouchdb: a WorkerStore on leveldb, as local mode runs it (PouchDB on a thread of its own); its CPU is
// this process's. Default 10,000,000 predictions.
// couchdb: a CouchStore against COUCHDB_URL, or else the dev server (ops/dev/couchdb-node.ts: pouchdb-server
// as `ops/dev/services` runs it) keeping its databases on disk. Default 10,000,000 predictions. Until
// 2026-12-06 this was a plain pouchdb-server (the tests' startPouchServer), whose disk-size part walks
// the data directory on every request: a cost that grows with the store and that CouchDB does not have
// (it keeps sizes in its files' headers), which ops/dev leaves out for that reason.
// Bytes on disk are those of the store's databases in the server's data directory (its log and system
// databases left out), or, with COUCHDB_URL, what the server reports (sizes.file / disk_size). The
// server's CPU per result is printed beside this process's when its process is known.
// --couch-interval-ms: CouchStore's minimum interval between two _bulk_docs of a database. Default 0, so
// that the server's capacity is what is measured; 200 is production's (a consumer's pacing, which caps
// one process at ~512 documents a database per 200 ms).
// --images: results keep their image (~1 KB of base64), as the page's predictions do; API results don't.
// --dir: where the data goes (a fresh directory inside it, removed at the end unless --keep); default the
// system's temporary directory. 10,000,000 predictions in leveldb take several GB: check the free space
// printed first.
//
// With the default 30-day retention the periods are one day long, so a whole run lands in one or two
// period databases of each kind; the store's own sweeps (every 5 s) run during the load, as they do in
// production, and their cost is part of the write rate.
import { lstat, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { readFileSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveCouchConnection } from '../src/adapters/store/couch/couch-credentials.ts';
import { CouchStore } from '../src/adapters/store/couch/couch-store.ts';
import { Periods } from '../src/adapters/store/periods.ts';
import { DEFAULT_RETENTION, type PredictionResult, type RetentionPolicy, type Store, type SweepReport } from '../src/adapters/store/store.ts';
import { WorkerStore } from '../src/adapters/store/worker-store.ts';
import { imagesToText, PIXELS } from '../src/protocol/image.ts';
import { STORE_WORKER } from '../src/workers.ts';
import { startCouch, waitForCouch, type CouchNode } from '../ops/dev/couchdb-node.ts';
import { freePort } from '../test/helpers/process.ts';
import { writeJsonResults } from './json-results.ts';

const { values: flags } = parseArgs({
  options: {
    store: { type: 'string', default: 'both' },
    count: { type: 'string' },
    'pouch-count': { type: 'string' },
    'couch-count': { type: 'string' },
    batch: { type: 'string', default: '64' },
    concurrency: { type: 'string', default: '4' },
    sessions: { type: 'string', default: '10000' },
    reads: { type: 'string', default: '2000' },
    'retention-days': { type: 'string', default: String(DEFAULT_RETENTION.retentionMs / 86_400_000) },
    images: { type: 'boolean', default: false },
    'couch-interval-ms': { type: 'string', default: '0' },
    dir: { type: 'string', default: tmpdir() },
    keep: { type: 'boolean', default: false },
    json: { type: 'string' },
  },
});

const positive = (name: string, text: string | undefined, fallback: number): number => {
  const value = text === undefined ? fallback : Number(text.replace(/[_,]/g, ''));
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive whole number, not ${text}`);
  return value;
};
const stores = flags.store === 'both' ? (['pouchdb', 'couchdb'] as const) : [flags.store];
for (const name of stores) if (name !== 'pouchdb' && name !== 'couchdb') throw new Error(`--store must be pouchdb, couchdb or both, not ${name}`);
const counts = {
  pouchdb: positive('pouch-count', flags['pouch-count'] ?? flags.count, 10_000_000),
  couchdb: positive('couch-count', flags['couch-count'] ?? flags.count, 10_000_000),
};
const batchSize = positive('batch', flags.batch, 64);
const concurrency = positive('concurrency', flags.concurrency, 4);
const sessionCount = positive('sessions', flags.sessions, 10_000);
const readCount = positive('reads', flags.reads, 2_000);
const retention: RetentionPolicy = { ...DEFAULT_RETENTION, retentionMs: Number(flags['retention-days']) * 86_400_000 };
const periods = new Periods(retention.retentionMs);
const couchIntervalMs = Number(flags['couch-interval-ms']);
const SAMPLE_SIZE = 10_000;
const HISTORY_LIMIT = 50;

// ---- What is written: results shaped as the consumer makes them (src/actors/consumer.ts), from pools
// made once so that making them costs this process little of the CPU it measures.

const SESSIONS = Array.from({ length: sessionCount }, () => crypto.randomUUID());
const PROBABILITIES = Array.from({ length: 1024 }, () => {
  // A softmax in float32, as the model answers: one class well ahead, nine small values.
  const winner = Math.floor(Math.random() * 10);
  const logits = Array.from({ length: 10 }, (_, d) => (d === winner ? 6 + Math.random() * 6 : Math.random() * 4));
  const sum = logits.reduce((s, x) => s + Math.exp(x), 0);
  return { digit: winner, row: Array.from(Float32Array.from(logits, (x) => Math.exp(x) / sum)) };
});
const IMAGES = Array.from({ length: 64 }, (_, i) => {
  // A ring of some radius: mostly black, as a drawn digit is (which matters to leveldb's compression).
  const pixels = new Float32Array(PIXELS);
  const radius = 5 + (i % 6);
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) pixels[y * 28 + x] = Math.max(0, 1 - Math.abs(Math.hypot(x - 14, y - 14) - radius) / 1.5);
  return imagesToText(pixels);
});

function batchOf(n: number): PredictionResult[] {
  const createdAt = new Date().toISOString();
  return Array.from({ length: n }, () => {
    const { digit, row } = PROBABILITIES[Math.floor(Math.random() * PROBABILITIES.length)]!;
    return {
      id: Bun.randomUUIDv7(),
      digits: [digit],
      probabilities: [row],
      modelVersion: 'lean-20261126',
      createdAt,
      sessionId: SESSIONS[Math.floor(Math.random() * SESSIONS.length)]!,
      ...(flags.images ? { images: IMAGES[Math.floor(Math.random() * IMAGES.length)]! } : {}),
    };
  });
}

/** A uniform sample of the ids offered, of at most `size` (Algorithm R). */
class Reservoir {
  readonly ids: string[] = [];
  private seen = 0;
  constructor(private readonly size: number) {}
  offer(id: string): void {
    this.seen++;
    if (this.ids.length < this.size) this.ids.push(id);
    else {
      const i = Math.floor(Math.random() * this.seen);
      if (i < this.size) this.ids[i] = id;
    }
  }
  pick(): string {
    return this.ids[Math.floor(Math.random() * this.ids.length)]!;
  }
}

// ---- Measuring.

const percentile = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;
const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const int = (n: number) => Math.round(n).toLocaleString('en-US');
const bytes = (n: number) => (n >= 1e9 ? `${(n / 1e9).toFixed(2)} GB` : n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} kB`);
const ms = (n: number) => (n >= 100 ? n.toFixed(0) : n.toFixed(2));

/** Bytes on disk (allocated blocks, as du counts them) of a file or directory tree. */
async function du(path: string): Promise<number> {
  const info = await lstat(path).catch(() => null); // leveldb removes files as it compacts
  if (!info) return 0;
  let total = info.blocks * 512;
  if (info.isDirectory()) for (const name of await readdir(path).catch(() => [])) total += await du(join(path, name));
  return total;
}

/** utime + stime in µs of these processes (Linux; ticks of 10 ms). */
function processCpuMicros(pids: readonly number[]): number {
  if (pids.length === 0) return NaN;
  let total = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      total += (Number(fields[11]) + Number(fields[12])) * 10_000;
    } catch {
      return NaN;
    }
  }
  return total;
}

const readFileSafe = (path: string) => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
};
function processRssBytes(pids: readonly number[]): number {
  if (pids.length === 0) return NaN;
  let total = 0;
  for (const pid of pids) {
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(readFileSafe(`/proc/${pid}/status`))?.[1];
    if (kb === undefined) return NaN;
    total += Number(kb) * 1024;
  }
  return total;
}

/** A store under test, with what the bench must know beyond the Store interface. */
interface Target {
  readonly name: 'pouchdb' | 'couchdb';
  readonly store: Store;
  readonly where: string;
  /** Bytes on disk of the store's databases. */
  diskBytes(): Promise<number>;
  /** The period databases there are (results-…, history-…). */
  periodDatabases(): Promise<string[]>;
  /** CPU µs the server has used so far, NaN when it is this process (or unknown). */
  serverCpuMicros(): number;
  /** The server's resident memory, NaN when it is this process (or unknown). */
  serverRssBytes(): number;
  close(): Promise<void>;
}

interface Mark {
  readonly done: number;
  readonly ms: number;
  readonly cpu: number;
  readonly server: number;
}

const cleanups: (() => Promise<void>)[] = [];
process.on('SIGINT', () => {
  console.log('interrupted: cleaning up');
  void Promise.allSettled(cleanups.map((cleanup) => cleanup())).then(() => process.exit(130));
});

async function pouchTarget(root: string): Promise<Target> {
  const directory = join(root, 'pouchdb');
  const store = new WorkerStore({ adapter: 'leveldb', directory, retention }, STORE_WORKER);
  await store.open();
  return {
    name: 'pouchdb',
    store,
    where: `WorkerStore on leveldb in ${directory}`,
    diskBytes: () => du(directory),
    periodDatabases: async () => (await readdir(directory)).filter((name) => Periods.parse(name) !== null).sort(),
    serverCpuMicros: () => NaN,
    serverRssBytes: () => NaN,
    close: () => store.close(),
  };
}

async function couchTarget(root: string): Promise<Target> {
  const prefix = `stratus_scale_${crypto.randomUUID().slice(0, 8)}_`;
  const external = process.env.COUCHDB_URL;
  let serverUrl: string | null = null;
  let dataDir: string | null = null;
  let pids: number[] = [];
  let stopServer: (() => Promise<void>) | null = null;
  if (!external) {
    const runDir = join(root, 'couchdb');
    dataDir = join(runDir, 'data');
    await mkdir(dataDir, { recursive: true });
    const node: CouchNode = { port: freePort(), pid: 0 };
    startCouch(runDir, node, dataDir);
    stopServer = async () => {
      stopServer = null;
      process.kill(node.pid, 'SIGKILL');
      // Gone, or a zombie (its files closed) until this process reaps it.
      const alive = () => readFile(`/proc/${node.pid}/stat`, 'utf8').then((stat) => stat.split(') ')[1]?.[0] !== 'Z', () => false);
      while (await alive()) await Bun.sleep(20);
    };
    cleanups.push(() => stopServer?.() ?? Promise.resolve());
    await waitForCouch(node, 60_000);
    serverUrl = `http://127.0.0.1:${node.port}`;
    pids = [node.pid];
  }
  const { url, credentials } = resolveCouchConnection(external ?? (serverUrl as string), 'COUCHDB_URL', null, process.env);
  const store = new CouchStore({ url, prefix, credentials, retention, bulk: { minIntervalMs: couchIntervalMs }, requestTimeoutMs: 300_000 });
  await store.open();
  const own = async () => (await fetch(`${url}/_all_dbs`, auth()).then((r) => r.json() as Promise<string[]>)).filter((name) => name.startsWith(prefix));
  const auth = (init: RequestInit = {}): RequestInit => (credentials ? { ...init, headers: { Authorization: credentials.authorizationHeader() } } : init);
  return {
    name: 'couchdb',
    store,
    where: dataDir
      ? `CouchStore → the dev server (ops/dev/couchdb-node.ts, pid ${pids.join(',')}) at ${url}, leveldb in ${dataDir}; bulk interval ${couchIntervalMs} ms`
      : `CouchStore → ${url}; bulk interval ${couchIntervalMs} ms`,
    async diskBytes() {
      if (dataDir) {
        let total = 0;
        for (const name of await readdir(dataDir)) if (name.startsWith(prefix)) total += await du(join(dataDir, name));
        return total;
      }
      let total = 0;
      for (const name of await own()) {
        const info = (await fetch(`${url}/${encodeURIComponent(name)}`, auth()).then((r) => r.json())) as { sizes?: { file?: number }; disk_size?: number };
        total += info.sizes?.file ?? info.disk_size ?? 0;
      }
      return total;
    },
    periodDatabases: async () => (await own()).map((name) => name.slice(prefix.length)).filter((name) => Periods.parse(name) !== null).sort(),
    serverCpuMicros: () => processCpuMicros(pids),
    serverRssBytes: () => processRssBytes(pids),
    async close() {
      if (external) for (const name of await own()) await fetch(`${url}/${encodeURIComponent(name)}`, auth({ method: 'DELETE' }));
      await store.close();
      await stopServer?.();
    },
  };
}

// ---- What --json writes.

/** One store's figures. Rates in results/s, CPU in µs per result (server: NaN → null when unknown). */
export interface StoreScaleRun {
  readonly store: 'pouchdb' | 'couchdb';
  readonly where: string;
  readonly count: number;
  readonly seconds: number;
  readonly rate: { readonly whole: number; readonly first5: number; readonly last5: number; readonly lastOverFirst: number };
  readonly cpuMicrosPerResult: { readonly first5: number; readonly last5: number; readonly serverFirst5: number | null; readonly serverLast5: number | null };
  /** The write rate over each tenth of the load. */
  readonly tenths: readonly { readonly percent: number; readonly resultsPerSecond: number }[];
  readonly diskBytes: number;
  readonly bytesPerPrediction: number;
  readonly historyMs: { readonly p50: number; readonly p99: number };
  readonly getResultMs: { readonly p50: number; readonly p99: number };
  readonly expiry: { readonly ms: number; readonly bytesTakenBack: number; readonly databasesLeft: number; readonly allGone: boolean };
}

export interface StoreScaleResults {
  readonly batch: number;
  readonly concurrency: number;
  readonly sessions: number;
  readonly reads: number;
  readonly retentionDays: number;
  readonly runs: readonly StoreScaleRun[];
}

const perSecond = (from: Mark, to: Mark) => ((to.done - from.done) * 1000) / (to.ms - from.ms);
const cpuPer = (from: Mark, to: Mark, key: 'cpu' | 'server') => (to[key] - from[key]) / Math.max(1, to.done - from.done);
const orNull = (n: number) => (Number.isFinite(n) ? n : null);

// ---- The run.

function rateLine(label: string, from: Mark, to: Mark, calls?: number[]): string {
  const n = to.done - from.done;
  const seconds = (to.ms - from.ms) / 1000;
  const server = to.server - from.server;
  calls?.sort((a, b) => a - b);
  return (
    `${label}: ${int(n)} results in ${seconds.toFixed(1)} s, ${int(n / seconds)} results/s, CPU ${int((to.cpu - from.cpu) / n)} µs/result` +
    (Number.isNaN(server) ? '' : ` (server ${int(server / n)} µs/result)`) +
    (calls ? `, ms per call p50 ${ms(percentile(calls, 0.5))} p99 ${ms(percentile(calls, 0.99))}` : '')
  );
}

async function timed<T>(calls: number, call: () => Promise<T>, check: (answer: T) => boolean): Promise<{ sorted: number[]; failed: number }> {
  const times: number[] = [];
  let failed = 0;
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    const answer = await call();
    times.push(performance.now() - t0);
    if (!check(answer)) failed++;
  }
  return { sorted: times.sort((a, b) => a - b), failed };
}

async function run(target: Target, count: number): Promise<StoreScaleRun> {
  const { store } = target;
  console.log(`\n== ${target.name}: ${int(count)} predictions; ${target.where}`);
  const emptyBytes = await target.diskBytes();
  const sample = new Reservoir(SAMPLE_SIZE);
  const mark = (done: number): Mark => ({ done, ms: performance.now(), cpu: cpuMicros(), server: target.serverCpuMicros() });

  // 1. The load.
  const first = Math.ceil(count * 0.05);
  const last = Math.floor(count * 0.95);
  const startMark = mark(0);
  let startWindow: Mark | null = null;
  let endWindow: Mark | null = null;
  let tenth = 1;
  let intervalMark = startMark;
  let intervalCalls: number[] = [];
  const tenths: { percent: number; resultsPerSecond: number }[] = [];
  const startCalls: number[] = [];
  const endCalls: number[] = [];
  let issued = 0;
  let done = 0;
  let notCreated = 0;
  const lane = async () => {
    while (issued < count) {
      const n = Math.min(batchSize, count - issued);
      issued += n;
      const batch = batchOf(n);
      const t0 = performance.now();
      const outcomes = await store.saveResults(batch);
      const took = performance.now() - t0;
      notCreated += outcomes.filter((outcome) => outcome !== 'created').length;
      for (const result of batch) sample.offer(result.id);
      if (done < first) startCalls.push(took);
      if (done >= last) endCalls.push(took);
      intervalCalls.push(took);
      done += n;
      if (!startWindow && done >= first) startWindow = mark(done);
      if (!endWindow && done >= last) endWindow = mark(done);
      while (tenth < 10 && done >= (count * tenth) / 10) {
        const now = mark(done);
        tenths.push({ percent: tenth * 10, resultsPerSecond: perSecond(intervalMark, now) });
        const line = rateLine(`  ${String(tenth * 10).padStart(3)} %, ${((now.ms - startMark.ms) / 1000).toFixed(1)} s in; since the last line`, intervalMark, now, intervalCalls);
        intervalMark = now;
        intervalCalls = [];
        tenth++;
        const rss = `RSS ${bytes(process.memoryUsage.rss())}${Number.isNaN(target.serverRssBytes()) ? '' : `, server's ${bytes(target.serverRssBytes())}`}`;
        void target.diskBytes().then((disk) => console.log(`${line}; disk ${bytes(disk)}, ${rss}`));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  const endMark = mark(done);
  console.log(rateLine(`load, whole`, startMark, endMark));
  console.log(rateLine(`load, first 5 %`, startMark, startWindow ?? endMark, startCalls));
  console.log(rateLine(`load, last 5 %`, endWindow ?? startMark, endMark, endCalls));
  const rate = (from: Mark, to: Mark) => (to.done - from.done) / (to.ms - from.ms);
  const ratio = rate(endWindow ?? startMark, endMark) / rate(startMark, startWindow ?? endMark);
  console.log(`write rate, last 5 % / first 5 %: ${ratio.toFixed(2)} (${ratio >= 0.8 ? 'within' : 'OUTSIDE'} the issue's bound of 0.80)`);
  if (notCreated > 0) console.log(`WARNING: ${int(notCreated)} results were not 'created'`);

  // 3. Bytes on disk.
  const loadedBytes = await target.diskBytes();
  console.log(`disk after the load: ${bytes(loadedBytes)} (${int(loadedBytes)} bytes; ${bytes(emptyBytes)} empty), ${int((loadedBytes - emptyBytes) / count)} bytes per prediction`);

  // 2. Reads, one at a time, with no writes going on.
  const history = await timed(readCount, () => store.sessionHistory(SESSIONS[Math.floor(Math.random() * SESSIONS.length)]!, HISTORY_LIMIT), (rows) => rows.length > 0);
  console.log(
    `sessionHistory(session, ${HISTORY_LIMIT}), ${int(readCount)} random sessions: p50 ${ms(percentile(history.sorted, 0.5))} ms, p99 ${ms(percentile(history.sorted, 0.99))} ms, ` +
      `max ${ms(history.sorted.at(-1)!)} ms; ${history.failed} came back empty (~${int(readCount * Math.exp(-count / sessionCount))} expected: sessions the load never wrote to)`,
  );
  const results = await timed(readCount, () => store.getResult(sample.pick()), (result) => result !== null);
  console.log(
    `getResult(id), ${int(readCount)} ids sampled from the load: p50 ${ms(percentile(results.sorted, 0.5))} ms, p99 ${ms(percentile(results.sorted, 0.99))} ms, ` +
      `max ${ms(results.sorted.at(-1)!)} ms; ${results.failed} not found`,
  );

  // 4. Expiry.
  const before = await target.periodDatabases();
  const beforeBytes = await target.diskBytes();
  console.log(`period databases before expiry: ${before.length} (${before.join(', ')}); disk ${bytes(beforeBytes)}`);
  const future = Date.now() + retention.retentionMs + 2 * periods.lengthMs;
  let report: SweepReport | null = null;
  const expiryStarted = performance.now();
  // A sweep the store began by itself meanwhile answers for this one (as of its own time): sweep again.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const started = performance.now();
    const cpu = cpuMicros();
    report = await store.sweep(future);
    console.log(
      `expiry sweep (as of now + retention + 2 periods), run ${attempt}: ${ms(performance.now() - started)} ms, CPU ${ms((cpuMicros() - cpu) / 1000)} ms, ` +
        `${report.databasesDropped} databases dropped`,
    );
    if ((await target.periodDatabases()).length === 0) break;
  }
  const afterBytes = await target.diskBytes();
  const left = await target.periodDatabases();
  console.log(`disk after expiry: ${bytes(afterBytes)}, ${bytes(beforeBytes - afterBytes)} taken back; period databases left: ${left.length}`);
  const expiryMs = performance.now() - expiryStarted;
  const probes = sample.ids.slice(0, 100);
  let found = 0;
  for (const id of probes) if ((await store.getResult(id)) !== null) found++;
  const historyLeft = (await store.sessionHistory(SESSIONS[0]!, HISTORY_LIMIT)).length;
  console.log(
    `after expiry: getResult of ${probes.length} sampled ids found ${found}, history of a session has ${historyLeft} entries ` +
      `(${found === 0 && historyLeft === 0 ? 'ok, all gone' : 'NOT ALL GONE'})`,
  );
  const [first5, last5] = [startWindow ?? endMark, endWindow ?? startMark] as const;
  return {
    store: target.name,
    where: target.where,
    count,
    seconds: (endMark.ms - startMark.ms) / 1000,
    rate: { whole: perSecond(startMark, endMark), first5: perSecond(startMark, first5), last5: perSecond(last5, endMark), lastOverFirst: ratio },
    cpuMicrosPerResult: {
      first5: cpuPer(startMark, first5, 'cpu'),
      last5: cpuPer(last5, endMark, 'cpu'),
      serverFirst5: orNull(cpuPer(startMark, first5, 'server')),
      serverLast5: orNull(cpuPer(last5, endMark, 'server')),
    },
    tenths,
    diskBytes: loadedBytes,
    bytesPerPrediction: (loadedBytes - emptyBytes) / count,
    historyMs: { p50: percentile(history.sorted, 0.5), p99: percentile(history.sorted, 0.99) },
    getResultMs: { p50: percentile(results.sorted, 0.5), p99: percentile(results.sorted, 0.99) },
    expiry: { ms: expiryMs, bytesTakenBack: beforeBytes - afterBytes, databasesLeft: left.length, allGone: found === 0 && historyLeft === 0 },
  };
}

const root = await mkdtemp(join(resolve(flags.dir), 'stratus-store-scale-'));
cleanups.push(() => (flags.keep ? Promise.resolve() : rm(root, { recursive: true, force: true })));
const disk = statfsSync(root);
console.log(
  `store scale: ${stores.map((name) => `${name} ${int(counts[name as 'pouchdb' | 'couchdb'])}`).join(', ')} predictions; batch ${batchSize}, ${concurrency} calls in flight, ` +
    `${int(sessionCount)} sessions${flags.images ? ', with images' : ''}; retention ${flags['retention-days']} days (periods of ${periods.lengthMs / 3_600_000} h), ` +
    `history limit ${retention.historyLimit}`,
);
console.log(
  `machine: ${navigator.hardwareConcurrency} cores, load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}; ` +
    `data in ${root}, ${bytes(disk.bavail * disk.bsize)} free there`,
);
const scaleRuns: StoreScaleRun[] = [];
try {
  for (const name of stores) {
    const target = name === 'pouchdb' ? await pouchTarget(root) : await couchTarget(root);
    try {
      scaleRuns.push(await run(target, counts[name as 'pouchdb' | 'couchdb']));
    } finally {
      await target.close();
    }
  }
} finally {
  await writeJsonResults(flags.json, {
    batch: batchSize,
    concurrency,
    sessions: sessionCount,
    reads: readCount,
    retentionDays: Number(flags['retention-days']),
    runs: scaleRuns,
  } satisfies StoreScaleResults);
  for (const cleanup of cleanups) await cleanup().catch(() => {});
}
