// Time and CPU CouchStore takes to store consumer batches (each result in a session: one _bulk_docs for
// results, one for history), against COUCHDB_URL or a pouchdb-server started here the way
// ops/dev/couchdb-node.ts starts it for cluster mode (so its flags are what gets measured).
//
//   bun run bench/couch-store.ts [--batches 300] [--batch 64] [--in-flight 1,2,4] [--stores 1]
//                                [--no-sessions] [--server-pid PID]
//
// --no-sessions: results without a session id (API calls), so no history write: one _bulk_docs a batch.
// --stores N: N CouchStores (as N consumer processes would have), each with `in flight` batches at once.
// --server-pid: with COUCHDB_URL, the server process whose CPU to read (a server started here is known).
//
// Prints ms per batch (mean, p50, p99), results/s, this process's CPU per batch and the server's CPU per
// stored result (from /proc/<pid>/stat: what limits a cluster's throughput on a shared machine), plus
// how many documents the _bulk_docs requests carried on average.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startCouch, waitForCouch, type CouchNode } from '../ops/dev/couchdb-node.ts';
import { resolveCouchConnection } from '../src/adapters/store/couch/couch-credentials.ts';
import { CouchStore } from '../src/adapters/store/couch/couch-store.ts';
import type { PredictionResult } from '../src/adapters/store/store.ts';
import { freePort } from '../test/helpers/process.ts';

const { values: flags } = parseArgs({
  options: {
    batches: { type: 'string', default: '300' },
    batch: { type: 'string', default: '64' },
    'in-flight': { type: 'string', default: '1,2,4' },
    stores: { type: 'string', default: '1' },
    'no-sessions': { type: 'boolean', default: false },
    'server-pid': { type: 'string' },
  },
});
const batches = Number(flags.batches);
const batchSize = Number(flags.batch);
const storeCount = Number(flags.stores);

let sequence = 0;
function result(): PredictionResult {
  sequence++;
  const digit = sequence % 10;
  return {
    id: `bench-${crypto.randomUUID()}`,
    digits: [digit],
    probabilities: [Array.from({ length: 10 }, (_, d) => (d === digit ? 0.9910734 : 0.0009918))],
    modelVersion: 'v-bench',
    createdAt: new Date().toISOString(),
    ...(flags['no-sessions'] ? {} : { sessionId: `session-${sequence % 50}` }),
  };
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? NaN;

/** utime + stime of a process in µs (Linux), or NaN when it cannot be read. */
function processCpuMicros(pid: number | null): number {
  if (pid === null) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 14 and 15 of stat (utime, stime) are 11 and 12 after the command name; clock ticks of 10 ms.
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return NaN;
  }
}

async function startServer(): Promise<{ url: string; pid: number | null; stop(): Promise<void> }> {
  const external = process.env.COUCHDB_URL;
  if (external) return { url: external.replace(/\/+$/, ''), pid: flags['server-pid'] ? Number(flags['server-pid']) : null, stop: async () => {} };
  const dir = await mkdtemp(join(tmpdir(), 'stratus-bench-couch-'));
  const node: CouchNode = { port: freePort(), pid: 0 };
  startCouch(dir, node);
  await waitForCouch(node, 60_000);
  return {
    url: `http://127.0.0.1:${node.port}`,
    pid: node.pid,
    async stop() {
      process.kill(node.pid, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
}

const server = await startServer();
try {
  const { url, credentials } = resolveCouchConnection(server.url, 'COUCHDB_URL', null, process.env);
  console.log(
    `server: ${url} (pid ${server.pid ?? 'unknown'})  batches: ${batches} of ${batchSize} results over ${storeCount} store(s), ` +
      `${flags['no-sessions'] ? 'without' : 'each in'} a session; load average ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
  );
  for (const inFlight of flags['in-flight'].split(',').map(Number)) {
    const prefix = `stratus_bench_${crypto.randomUUID().slice(0, 8)}_`;
    // No interval between requests: this measures the server's cost for the request shapes that lanes and
    // stores make; what CouchStore's 200 ms interval does under real load, bench/cluster.ts shows.
    const stores = Array.from({ length: storeCount }, () => new CouchStore({ url, credentials, prefix, bulk: { minIntervalMs: 0 } }));
    // Counts the _bulk_docs requests and their documents, by wrapping what the stores' queues send.
    let requests = 0;
    let docsSent = 0;
    for (const store of stores) {
      const inner = store as unknown as { bulk(db: string, docs: readonly object[]): Promise<unknown> };
      const bulk = inner.bulk.bind(inner);
      inner.bulk = (db, docs) => {
        requests++;
        docsSent += docs.length;
        return bulk(db, docs);
      };
    }
    for (const store of stores) await store.open();
    // Warm-up: connections, the server's JIT.
    for (let i = 0; i < 10; i++) await Promise.all(stores.map((store) => store.saveResults(Array.from({ length: batchSize }, result))));
    const times: number[] = [];
    let next = 0;
    requests = 0;
    docsSent = 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const serverBefore = processCpuMicros(server.pid);
    const lane = async (store: CouchStore) => {
      while (next++ < batches) {
        const batch = Array.from({ length: batchSize }, result);
        const t0 = performance.now();
        await store.saveResults(batch);
        times.push(performance.now() - t0);
      }
    };
    await Promise.all(stores.flatMap((store) => Array.from({ length: inFlight }, () => lane(store))));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    const serverMicros = processCpuMicros(server.pid) - serverBefore;
    const stored = times.length * batchSize;
    // This process's CPU per batch: what a consumer pays, apart from the server's own work.
    const cpuMsPerBatch = (cpu.user + cpu.system) / 1000 / times.length;
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(
      `in flight ${inFlight} per store: ms per batch mean ${mean.toFixed(1)}, p50 ${percentile(times, 0.5).toFixed(1)}, p99 ${percentile(times, 0.99).toFixed(1)}; ` +
        `${Math.round(stored / seconds)} results/s; client CPU ${cpuMsPerBatch.toFixed(2)} ms per batch; ` +
        `server CPU ${(serverMicros / stored).toFixed(0)} µs per result; ${(docsSent / Math.max(1, requests)).toFixed(1)} docs per _bulk_docs`,
    );
    for (const store of stores) await store.close();
  }
} finally {
  await server.stop();
}
