// The period logic shared by both stores, with time given by hand: results written in one period and
// redelivered or read in the next, history across periods, a sweep at a chosen time.
import { afterEach, expect, test } from 'bun:test';
import { PouchDatabases } from '../../../src/adapters/store/pouch-store.ts';
import { DEFAULT_RETENTION, type PredictionResult, type RetentionPolicy } from '../../../src/adapters/store/store.ts';
import { TimeSeries } from '../../../src/adapters/store/time-series.ts';

const MINUTE = 60_000;
const T0 = Date.UTC(2026, 11, 5, 12, 0, 0);
let opened: PouchDatabases[] = [];

afterEach(async () => {
  for (const databases of opened) await databases.close();
  opened = [];
});

/** Retention 8 min, not the 30 days users get: one-minute periods, so a test steps across periods by the
 * minute with the same logic that makes users' periods a day long. */
async function series(policy: Partial<RetentionPolicy> = {}): Promise<{ series: TimeSeries; databases: PouchDatabases }> {
  const databases = new PouchDatabases({ adapter: 'memory', directory: `series-${crypto.randomUUID()}` });
  await databases.open();
  opened.push(databases);
  return { series: new TimeSeries(databases, { ...DEFAULT_RETENTION, retentionMs: 8 * MINUTE, ...policy }), databases };
}

let sequence = 0;
function result(at: number, sessionId?: string): PredictionResult {
  sequence++;
  return {
    id: Bun.randomUUIDv7('hex', at),
    digits: [sequence % 10],
    probabilities: [Array.from({ length: 10 }, (_, d) => (d === sequence % 10 ? 0.91 : 0.01))],
    modelVersion: 'v-test',
    createdAt: new Date(at).toISOString(),
    ...(sessionId ? { sessionId } : {}),
  };
}

test('each period writes a database of its own; a sweep drops those past the retention, and only those', async () => {
  const { series: store, databases } = await series();
  for (let minute = 0; minute < 12; minute++) await store.saveResults([result(T0 + minute * MINUTE, 's')], T0 + minute * MINUTE + 1_000);
  const periodsBefore = (await databases.names()).filter((name) => name.startsWith('results-'));
  expect(periodsBefore.length).toBe(12);
  const report = await store.sweep(T0 + 12 * MINUTE);
  // At 12:12, minus the grace of one period: what ended by 12:03 is past 8 min. Periods 12:00–12:02 go.
  expect(report.databasesDropped).toBe(6);
  expect((await databases.names()).filter((name) => name.startsWith('results-')).sort()).toEqual(periodsBefore.sort().slice(3));
});

test('a redelivery in a later period is found where the first delivery was stored: stored once, listed once', async () => {
  const { series: store } = await series();
  const first = result(T0, 'session-r');
  expect(await store.saveResults([first], T0 + 100)).toEqual(['created']);
  const later = T0 + 3 * MINUTE;
  expect(await store.saveResults([{ ...first, createdAt: new Date(later).toISOString() }, result(later, 'session-r')], later)).toEqual(['exists', 'created']);
  expect(await store.getResult(first.id, later)).toEqual(first);
  expect((await store.sessionHistory('session-r', 10, later)).map((r) => r.id).includes(first.id)).toBe(true);
  expect((await store.sessionHistory('session-r', 10, later)).length).toBe(2);
});

test('a stored result whose history entry was lost gets it back, in its own period, when redelivered', async () => {
  const { series: store, databases } = await series();
  const first = result(T0, 'session-x');
  await store.saveResults([first], T0 + 100);
  await store.clearSession('session-x', T0 + 200);
  expect(await store.sessionHistory('session-x', 10, T0 + 300)).toEqual([]);
  await store.saveResults([first], T0 + 2 * MINUTE);
  expect(await store.sessionHistory('session-x', 10, T0 + 2 * MINUTE)).toEqual([first]);
  const newest = (await databases.names()).filter((name) => name.startsWith('history-')).sort();
  expect(newest).toEqual([store.periods.name('history', T0)]);
});

test('history reads newest period first and stops at the limit, over all periods', async () => {
  const { series: store } = await series({ historyLimit: 5 });
  const made: PredictionResult[] = [];
  for (let minute = 0; minute < 4; minute++) {
    const at = T0 + minute * MINUTE;
    const batch = [result(at, 'session-h'), result(at + 1, 'session-h'), result(at + 2, 'session-h')];
    made.push(...batch);
    await store.saveResults(batch, at + 10);
  }
  const now = T0 + 4 * MINUTE;
  const newestFive = made.slice(-5).reverse().map((r) => r.id);
  expect((await store.sessionHistory('session-h', 50, now)).map((r) => r.id)).toEqual(newestFive);
  expect((await store.sessionHistory('session-h', 4, now)).map((r) => r.id)).toEqual(newestFive.slice(0, 4));
  await store.sweep(now);
  expect((await store.sessionHistory('session-h', 50, now)).map((r) => r.id)).toEqual(newestFive);
  expect(await store.clearSession('session-h', now)).toBe(12);
});

test('a result past the retention is not found even before the sweep drops its database', async () => {
  const { series: store } = await series();
  const old = result(T0, 's');
  await store.saveResults([old], T0);
  expect(await store.getResult(old.id, T0 + 7 * MINUTE)).toEqual(old);
  expect(await store.getResult(old.id, T0 + 10 * MINUTE)).toBeNull();
});

test('the sweeps keep totals for /metrics: databases dropped, sweeps that failed, when the last one ended', async () => {
  const { series: store, databases } = await series();
  expect(store.totals()).toEqual({ sweeps: 0, failed: 0, databasesDropped: 0, feedbackTrimmed: 0, lastSeconds: 0, lastEndedAt: 0 });
  await store.saveResults([result(T0, 's')], T0);
  await store.saveResults([result(T0 + MINUTE, 's')], T0 + MINUTE);
  const before = Date.now();
  await store.sweep(T0 + 20 * MINUTE);
  await store.sweep(T0 + 20 * MINUTE);
  // Two periods of results and two of history, dropped by the first sweep; the second found nothing.
  expect(store.totals()).toMatchObject({ sweeps: 2, failed: 0, databasesDropped: 4, feedbackTrimmed: 0 });
  expect(store.totals().lastEndedAt).toBeGreaterThanOrEqual(before);
  // A store that cannot list its databases: the sweep fails, and says so in the totals.
  await databases.close();
  opened = opened.filter((open) => open !== databases);
  const failing = new TimeSeries({ ...databases, names: () => Promise.reject(new Error('server away')) } as never, { ...DEFAULT_RETENTION, retentionMs: 8 * MINUTE });
  await expect(failing.sweep(T0)).rejects.toThrow('server away');
  expect(failing.totals()).toMatchObject({ sweeps: 1, failed: 1, databasesDropped: 0 });
});
