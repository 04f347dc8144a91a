import { expect, test } from 'bun:test';
import { Periods, timeOfId } from '../../../src/adapters/store/periods.ts';
import { idempotentRequestId } from '../../../src/actors/idempotency.ts';

const DAY = 86_400_000;

test('the period is the longest of day, 6 h, hour, 10 min, minute, 10 s, second that fits eight times in the retention', () => {
  expect(new Periods(30 * DAY).lengthMs).toBe(DAY);
  expect(new Periods(7 * DAY).lengthMs).toBe(6 * 3_600_000);
  expect(new Periods(12 * 3_600_000).lengthMs).toBe(3_600_000);
  expect(new Periods(5_000).lengthMs).toBe(1_000);
  expect(() => new Periods(999)).toThrow(RangeError);
});

test('live periods cover the retention, newest first; an expired one is past it entirely', () => {
  const periods = new Periods(30 * DAY);
  const now = Date.UTC(2026, 11, 5, 7, 30);
  const live = periods.live(now);
  expect(live[0]).toBe(Date.UTC(2026, 11, 5));
  expect(live.length).toBe(31);
  expect(live.at(-1)).toBe(Date.UTC(2026, 10, 5));
  expect(periods.expired(Date.UTC(2026, 10, 4), now)).toBe(true);
  expect(periods.expired(Date.UTC(2026, 10, 5), now)).toBe(false);
});

test('database names are lower case, sort by time and parse back; other names do not', () => {
  const periods = new Periods(5_000);
  const start = Date.UTC(2026, 11, 5, 7, 30, 12);
  expect(periods.name('results', start)).toBe('results-20261205-073012');
  expect(Periods.parse('history-20261205-073012')).toEqual({ kind: 'history', start });
  for (const other of ['results', 'models', 'results-2026', 'feedback-20261205-073012']) expect(Periods.parse(other)).toBeNull();
});

test('an id tells its time when it is a UUID v7 or names a keyed window; others do not', () => {
  const before = Date.now();
  expect(timeOfId(Bun.randomUUIDv7())).toBeGreaterThanOrEqual(before);
  expect(timeOfId(crypto.randomUUID())).toBeNull();
  const now = Date.UTC(2026, 11, 5, 13);
  expect(timeOfId(idempotentRequestId('key', new Float32Array(784), 1, now))).toBe(Date.UTC(2026, 11, 5));
});

test('a result is looked for from the period of its id (less a minute, or a period, of clock skew) on, or everywhere', () => {
  const periods = new Periods(60_000);
  const now = Date.UTC(2026, 11, 5, 12, 0, 30);
  // One-second periods: from the id's second, less one, to now.
  const id = Bun.randomUUIDv7('hex', now - 5_000);
  expect(periods.holding(id, now)).toEqual(Array.from({ length: 7 }, (_, i) => now - i * 1_000));
  const recent = new Periods(30 * DAY);
  expect(recent.holding(Bun.randomUUIDv7('hex', now), now)).toEqual([Date.UTC(2026, 11, 5)]);
  const afterMidnight = Bun.randomUUIDv7('hex', Date.UTC(2026, 11, 5, 0, 0, 30));
  expect(recent.holding(afterMidnight, now)).toEqual([Date.UTC(2026, 11, 5), Date.UTC(2026, 11, 4)]);
  expect(recent.holding('no-time-in-it', now).length).toBe(31);
});
