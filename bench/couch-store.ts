// Time CouchStore takes to store one consumer batch (64 results, each in a session: one _bulk_docs for
// results, one for history), against COUCHDB_URL or a pouchdb-server started here.
//
//   bun run bench/couch-store.ts [--batches 300] [--batch 64] [--in-flight 1,2,4] [--no-sessions]
//
// --no-sessions: results without a session id (API calls), so no history write: one _bulk_docs a batch.
//
// Prints ms per batch (mean, p50, p99), results/s and this process's CPU per batch for each number of
// batches in flight at once (a consumer has one in flight; several consumers share the server).
import { parseArgs } from 'node:util';
import { resolveCouchConnection } from '../src/adapters/couch-credentials.ts';
import { CouchStore } from '../src/adapters/couch-store.ts';
import type { PredictionResult } from '../src/adapters/store.ts';
import { couchServer } from '../test/helpers/couch-server.ts';

const { values: flags } = parseArgs({
  options: {
    batches: { type: 'string', default: '300' },
    batch: { type: 'string', default: '64' },
    'in-flight': { type: 'string', default: '1,2,4' },
    'no-sessions': { type: 'boolean', default: false },
  },
});
const batches = Number(flags.batches);
const batchSize = Number(flags.batch);

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

const server = await couchServer();
try {
  const { url, credentials } = resolveCouchConnection(server.url, 'COUCHDB_URL', null, process.env);
  console.log(`server: ${url}  batches: ${batches} of ${batchSize} results, ${flags['no-sessions'] ? 'without' : 'each in'} a session`);
  for (const inFlight of flags['in-flight'].split(',').map(Number)) {
    const store = new CouchStore({ url, credentials, prefix: `stratus_bench_${crypto.randomUUID().slice(0, 8)}_` });
    await store.open();
    // Warm-up: connections, the server's JIT.
    for (let i = 0; i < 10; i++) await store.saveResults(Array.from({ length: batchSize }, result));
    const times: number[] = [];
    let next = 0;
    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const lane = async () => {
      while (next++ < batches) {
        const batch = Array.from({ length: batchSize }, result);
        const t0 = performance.now();
        await store.saveResults(batch);
        times.push(performance.now() - t0);
      }
    };
    await Promise.all(Array.from({ length: inFlight }, lane));
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    // This process's CPU per batch: what a consumer pays, apart from the server's own work.
    const cpuMsPerBatch = (cpu.user + cpu.system) / 1000 / times.length;
    times.sort((a, b) => a - b);
    const mean = times.reduce((a, b) => a + b, 0) / times.length;
    console.log(
      `in flight ${inFlight}: ms per batch mean ${mean.toFixed(1)}, p50 ${percentile(times, 0.5).toFixed(1)}, p99 ${percentile(times, 0.99).toFixed(1)}; ` +
        `${Math.round((times.length * batchSize) / seconds)} results/s; client CPU ${cpuMsPerBatch.toFixed(2)} ms per batch`,
    );
    await store.close();
  }
} finally {
  await server.stop();
}
