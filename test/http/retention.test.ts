// Retention end to end, as the issue words it. Local mode with --retention 5s (one period database a
// second, src/adapters/store/periods.ts) drops whole period databases in the background while
// predictions keep coming, and gives the disk space back; --history-limit caps what a session lists.
// Speed is not asserted here: bench/retention.ts measures whether the sweeps slow requests down.
import { describe, expect, test } from 'bun:test';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Periods } from '../../src/adapters/store/periods.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { createStore } from '../../src/adapters/store/registry.ts';
import { DEFAULT_RETENTION } from '../../src/adapters/store/store.ts';
import { parseCli } from '../../src/config.ts';
import { testDigits } from '../e2e/load-client.ts';
import { select } from '../helpers/html.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { startLocal } from '../helpers/local-stratus.ts';
import { MAIN, startProcess } from '../helpers/process.ts';
import { issuedSessions, sessionIdOf } from '../helpers/sessions.ts';
import { waitFor } from '../helpers/wait.ts';

/** Bytes of every file under `dir`; files and directories removed while it walks count as nothing. */
async function sizeOf(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const sizes = await Promise.all(
    entries.map((entry) => {
      const path = join(dir, entry.name);
      return entry.isDirectory() ? sizeOf(path) : stat(path).then((info) => info.size, () => 0);
    }),
  );
  return sizes.reduce((a, b) => a + b, 0);
}

/** The period databases (`results-…`, `history-…`) the store holds on disk now. */
async function periodDirectories(storeDir: string): Promise<Set<string>> {
  const names = await readdir(storeDir).catch(() => [] as string[]);
  return new Set(names.filter((name) => Periods.parse(name) !== null));
}

interface Sample {
  /** ms since the load began. */
  readonly at: number;
  /** Date.now() then, to tell the age of the periods. */
  readonly wall: number;
  readonly bytes: number;
  readonly periods: Set<string>;
  /** Requests were still being sent when the sample was taken. */
  readonly loading: boolean;
}

const mib = (bytes: number) => `${(bytes / 1048576).toFixed(1)} MiB`;

describe('--retention 5s', () => {
  // 64 clients, each with a session cookie of its own (the rate limits are per client), each paced at
  // 45 requests/s: under the default api limit of 100/s (a client never sends more than 45·t + 1 in t
  // seconds, the limit lets 100·t + 200 through), so no 429 whatever the server's speed; and 50,000
  // predictions take at least 17 s, well past the ~7 s after which the first period may be swept (later
  // when sweeps take long under load), so sweeps run while requests are still being sent.
  const CLIENTS = 64;
  const PER_CLIENT_PER_SECOND = 45;
  const PREDICTIONS = 50_000;
  const AFTERWARDS_MS = 15_000;

  test('after 50,000 predictions and 15 s more, the data directory is at most a quarter of its peak; no 5xx during the sweeps', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-retention-'));
    const storeDir = join(dataDir, 'store');
    const server = await startProcess([process.execPath, MAIN], ['--data-dir', dataDir, '--retention', '5s']);
    // Read the child's log as it comes, so a full pipe never stalls it, and keep it for a failure message.
    let log = '';
    const reading = new Response(server.proc.stderr).text().then((text) => (log = text), () => '');
    try {
      const digits = testDigits(256);
      const statuses = new Map<number, number>();
      const failures: string[] = [];
      const answeredAt: number[] = [];
      const samples: Sample[] = [];
      const began = performance.now();
      let loading = true;
      let sampling = true;

      const sampler = (async () => {
        while (sampling) {
          const at = performance.now() - began;
          const wasLoading = loading;
          const [bytes, periods] = await Promise.all([sizeOf(dataDir), periodDirectories(storeDir)]);
          samples.push({ at, wall: Date.now(), bytes, periods, loading: wasLoading && loading });
          await Bun.sleep(250);
        }
      })();

      let next = 0;
      const sessions = await issuedSessions(server.url, CLIENTS);
      const client = async (lane: number) => {
        const headers = { 'content-type': 'application/json', cookie: sessions[lane] as string };
        for (let sent = 0; next < PREDICTIONS; sent++) {
          const index = next++;
          const due = began + (sent * 1000) / PER_CLIENT_PER_SECOND;
          const wait = due - performance.now();
          if (wait > 0) await Bun.sleep(wait);
          let status: number;
          try {
            const response = await fetch(`${server.url}/api/predict`, { method: 'POST', headers, body: digits.bodies[index % digits.bodies.length] as string });
            status = response.status;
            const body = await response.text();
            if (status !== 200 && failures.length < 10) failures.push(`#${index}: HTTP ${status} ${body.slice(0, 200)}`);
          } catch (error) {
            status = 0;
            if (failures.length < 10) failures.push(`#${index}: ${error instanceof Error ? error.message : String(error)}`);
          }
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) answeredAt.push(performance.now() - began);
        }
      };
      await Promise.all(Array.from({ length: CLIENTS }, (_, lane) => client(lane)));
      const loadMs = performance.now() - began;
      loading = false;
      // "and 15 s more": the time the issue gives the sweeps, measured out while sampling.
      await Bun.sleep(AFTERWARDS_MS);
      sampling = false;
      await sampler;
      const final = { at: performance.now() - began, wall: Date.now(), bytes: await sizeOf(dataDir), periods: await periodDirectories(storeDir), loading: false };
      samples.push(final);

      const peak = samples.reduce((max, sample) => (sample.bytes > max.bytes ? sample : max));
      const during = samples.filter((sample) => sample.loading);
      // A period directory seen in one sample and gone in a later one, both taken while requests were sent.
      const drops: { at: number; name: string }[] = [];
      for (let i = 1; i < during.length; i++) {
        const [before, now] = [during[i - 1] as Sample, during[i] as Sample];
        for (const name of before.periods) if (!now.periods.has(name)) drops.push({ at: now.at, name });
      }
      const falls = during.filter((sample, i) => i > 0 && sample.bytes < (during[i - 1] as Sample).bytes).length;
      const firstDropAt = drops[0]?.at ?? Number.POSITIVE_INFINITY;
      // How old the oldest period on disk got (the retention says 5 s, plus a period and a period's grace).
      const oldestAge = Math.max(...samples.flatMap((sample) => [...sample.periods].map((name) => sample.wall - (Periods.parse(name)?.start ?? sample.wall))));
      const answeredAfterFirstDrop = answeredAt.filter((at) => at > firstDropAt).length;
      console.log(
        `retention 5s: ${PREDICTIONS} predictions in ${(loadMs / 1000).toFixed(1)} s (${(PREDICTIONS / (loadMs / 1000)).toFixed(0)}/s), ` +
          `statuses ${JSON.stringify(Object.fromEntries(statuses))}; data dir peak ${mib(peak.bytes)} at ${(peak.at / 1000).toFixed(1)} s, ` +
          `${mib(final.bytes)} ${(AFTERWARDS_MS / 1000).toFixed(0)} s after the load (${((final.bytes / peak.bytes) * 100).toFixed(1)} % of peak, ` +
          `${final.periods.size} period directories left); during the load ${drops.length} period directories dropped ` +
          `(first at ${(firstDropAt / 1000).toFixed(1)} s), size fell in ${falls} of ${during.length} samples, ` +
          `${answeredAfterFirstDrop} predictions answered after the first drop; oldest period seen on disk ${(oldestAge / 1000).toFixed(1)} s old`,
      );

      expect(failures).toEqual([]);
      expect(Object.fromEntries(statuses)).toEqual({ 200: PREDICTIONS });
      // Sweeps ran during the load: period directories went while requests were being sent.
      expect(drops.length).toBeGreaterThan(0);
      // Predictions kept flowing while the sweeps ran: answered (all with 200, above) after the first drop too.
      expect(answeredAfterFirstDrop).toBeGreaterThan(0);
      expect(final.bytes).toBeLessThanOrEqual(peak.bytes / 4);
      // What an operator sees of it: /metrics counts the sweeps and the databases they dropped.
      const metrics = await (await fetch(`${server.url}/metrics`)).text();
      const value = (series: string) => sampleOf(metrics, series);
      expect(value('stratus_store_sweeps_total{outcome="ok"}')).toBeGreaterThan(5);
      expect(value('stratus_store_sweeps_total{outcome="failed"}')).toBe(0);
      expect(value('stratus_store_databases_dropped_total')).toBeGreaterThanOrEqual(drops.length);
      // The sweeps go on after the load: a later one is counted, and its time shown. (Waited for, not
      // read off the clock: how long ago the last one ran depends on the machine's speed.)
      const sweptBefore = value('stratus_store_sweeps_total{outcome="ok"}');
      const lastBefore = value('stratus_store_last_sweep_timestamp_seconds');
      let later = metrics;
      await waitFor(async () => sampleOf((later = await (await fetch(`${server.url}/metrics`)).text()), 'stratus_store_sweeps_total{outcome="ok"}') > sweptBefore, 30_000, 100);
      expect(sampleOf(later, 'stratus_store_last_sweep_timestamp_seconds')).toBeGreaterThan(lastBefore);
      expect(server.proc.exitCode).toBeNull();
    } catch (error) {
      server.proc.kill();
      await reading;
      if (log.trim() !== '') console.log(`stratus's log:\n${log.slice(-4000)}`);
      throw error;
    } finally {
      server.proc.kill();
      await server.proc.exited;
      await reading;
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);
});

describe('--history-limit 10', () => {
  test('a session that made 1,000 predictions lists its newest 10, on the page and in the store', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'stratus-history-limit-'));
    const flags = ['--store', 'pouchdb', '--data-dir', dataDir, '--history-limit', '10'];
    // The store the runtime would build from these flags, built here through the same registry so the
    // test can ask it directly as well.
    const action = parseCli(['--port', '0', ...flags], {});
    if (action.kind !== 'run') throw new Error('unexpected CLI action');
    const store = await createStore(action.config.store, action.config);
    const stratus = await startLocal(flags, { store });
    const ids: string[] = [];
    let session = '';
    try {
      const [cookie] = (await issuedSessions(stratus.url, 1)) as [string];
      session = sessionIdOf(cookie);
      const digits = testDigits(100);
      const headers = { 'content-type': 'application/json', cookie };
      // One at a time, so that the newest are well defined; paced at 90/s after the first 150, under the
      // default api limit of 100/s with a burst of 200: about 10 s.
      const began = performance.now();
      for (let i = 0; i < 1_000; i++) {
        const wait = began + ((i - 150) * 1000) / 90 - performance.now();
        if (wait > 0) await Bun.sleep(wait);
        const response = await fetch(`${stratus.url}/api/predict`, { method: 'POST', headers, body: digits.bodies[i % 100] as string });
        expect(response.status).toBe(200);
        ids.push(((await response.json()) as { id: string }).id);
      }
      const newest = ids.slice(-10).reverse();
      // The consumer stores a result after it answers: wait until the last one is there.
      await waitFor(async () => (await store.sessionHistory(session, 1))[0]?.id === newest[0], 10_000, 20);

      const page = await fetch(`${stratus.url}/`, { headers: { cookie } });
      expect(page.status).toBe(200);
      const listed = select(await page.text(), '#history > *').map((entry) => entry.attributes['data-id']);
      console.log(`history limit 10: 1,000 predictions in ${((performance.now() - began) / 1000).toFixed(1)} s; the page lists ${listed.length}`);
      expect(listed).toEqual(newest);
      expect((await store.sessionHistory(session, 1_000)).map((result) => result.id)).toEqual(newest);

      // A sweep (every half period, or asked for) changes nothing that is listed.
      await store.sweep();
      expect((await store.sessionHistory(session, 1_000)).map((result) => result.id)).toEqual(newest);
    } finally {
      await stratus.stop();
    }
    // Read again from disk after the process stopped, with the same limit: the same ten, newest first.
    const reopened = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store'), retention: { ...DEFAULT_RETENTION, historyLimit: 10 } });
    await reopened.open();
    try {
      expect((await reopened.sessionHistory(session, 1_000_000)).map((result) => result.id)).toEqual(ids.slice(-10).reverse());
    } finally {
      await reopened.close();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 60_000);
});
