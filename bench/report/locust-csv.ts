// Locust's CSV output, parsed: `<prefix>_stats.csv` (totals per request name), `<prefix>_stats_history.csv`
// (one row a second per name with --csv-full-history) and `<prefix>_failures.csv`. Columns are found by
// their header, not position, so a Locust that adds columns still parses. Pure: text in, records out.

/** The response-time percentiles Locust reports, as its column headers name them. */
export const PERCENTILES = ['50%', '66%', '75%', '80%', '90%', '95%', '98%', '99%', '99.9%', '99.99%', '100%'] as const;
export type Percentile = (typeof PERCENTILES)[number];

export interface StatsRow {
  readonly type: string;
  readonly name: string;
  readonly requests: number;
  readonly failures: number;
  readonly averageMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly requestsPerSecond: number;
  /** Milliseconds; null where Locust wrote N/A (no request yet). */
  readonly percentilesMs: Readonly<Record<Percentile, number | null>>;
}

export interface HistoryPoint {
  /** Unix seconds. */
  readonly timestamp: number;
  readonly users: number;
  readonly name: string;
  readonly requestsPerSecond: number;
  readonly failuresPerSecond: number;
  /** Over Locust's recent window (the last ~10 s), not the whole run; null before any request. */
  readonly percentilesMs: Readonly<Record<Percentile, number | null>>;
  readonly totalRequests: number;
  readonly totalFailures: number;
}

export interface FailureRow {
  readonly method: string;
  readonly name: string;
  readonly error: string;
  readonly occurrences: number;
}

export const AGGREGATED = 'Aggregated';

/** RFC 4180 CSV: quoted fields may hold commas, doubled quotes and newlines. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.length > 1 || (r[0] ?? '') !== '');
}

/** Rows as records keyed by the header row; a missing header column is an error naming it. */
function records(text: string, required: readonly string[], what: string): Map<string, string>[] {
  const [header, ...rows] = parseCsv(text);
  if (header === undefined) throw new Error(`${what}: empty file`);
  const missing = required.filter((column) => !header.includes(column));
  if (missing.length > 0) throw new Error(`${what}: no column ${missing.map((m) => JSON.stringify(m)).join(', ')}`);
  return rows.map((row) => new Map(header.map((column, i) => [column, row[i] ?? ''])));
}

function number(record: Map<string, string>, column: string, what: string): number {
  const text = record.get(column) ?? '';
  const value = Number(text);
  if (text === '' || !Number.isFinite(value)) throw new Error(`${what}: column ${JSON.stringify(column)} is not a number: ${JSON.stringify(text)}`);
  return value;
}

function percentiles(record: Map<string, string>, what: string): Record<Percentile, number | null> {
  const out = {} as Record<Percentile, number | null>;
  for (const p of PERCENTILES) out[p] = record.get(p) === 'N/A' ? null : number(record, p, what);
  return out;
}

export function parseStats(text: string): StatsRow[] {
  const what = 'locust stats.csv';
  const required = ['Type', 'Name', 'Request Count', 'Failure Count', 'Average Response Time', 'Min Response Time', 'Max Response Time', 'Requests/s', ...PERCENTILES];
  return records(text, required, what).map((r) => ({
    type: r.get('Type') ?? '',
    name: r.get('Name') ?? '',
    requests: number(r, 'Request Count', what),
    failures: number(r, 'Failure Count', what),
    averageMs: number(r, 'Average Response Time', what),
    minMs: number(r, 'Min Response Time', what),
    maxMs: number(r, 'Max Response Time', what),
    requestsPerSecond: number(r, 'Requests/s', what),
    percentilesMs: percentiles(r, what),
  }));
}

/** The rows of one name (default: the Aggregated row Locust writes every second), oldest first. */
export function parseHistory(text: string, name: string = AGGREGATED): HistoryPoint[] {
  const what = 'locust stats_history.csv';
  const required = ['Timestamp', 'User Count', 'Name', 'Requests/s', 'Failures/s', 'Total Request Count', 'Total Failure Count', ...PERCENTILES];
  return records(text, required, what)
    .filter((r) => r.get('Name') === name)
    .map((r) => ({
      timestamp: number(r, 'Timestamp', what),
      users: number(r, 'User Count', what),
      name,
      requestsPerSecond: number(r, 'Requests/s', what),
      failuresPerSecond: number(r, 'Failures/s', what),
      percentilesMs: percentiles(r, what),
      totalRequests: number(r, 'Total Request Count', what),
      totalFailures: number(r, 'Total Failure Count', what),
    }))
    .sort((a, b) => a.timestamp - b.timestamp);
}

export function parseFailures(text: string): FailureRow[] {
  const what = 'locust failures.csv';
  return records(text, ['Method', 'Name', 'Error', 'Occurrences'], what).map((r) => ({
    method: r.get('Method') ?? '',
    name: r.get('Name') ?? '',
    error: r.get('Error') ?? '',
    occurrences: number(r, 'Occurrences', what),
  }));
}
