// Parsing Locust's CSV files: the header and row shapes below are what Locust 2.12 (Debian 12) writes.
import { describe, expect, test } from 'bun:test';
import { parseCsv, parseFailures, parseHistory, parseStats } from '../../bench/report/locust-csv.ts';

const STATS = `Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%
GET,GET /,58,0,3,3.8115546206834803,1.3577860008808784,17.98365200011176,5120.0,13.045708042972446,0.0,3,4,4,5,6,12,17,18,18,18,18
POST,POST /api/predict (pixels),89,2,2,3.6936887078063387,1.3244530000520172,25.344884999867645,310.0,20.018414065940476,0.45,2,3,4,4,6,11,20,25,25,25,25
,Aggregated,147,2,3,3.7401936258122856,1.3244530000520172,25.344884999867645,2210.0,33.064122108912926,0.45,3,3,4,4,6,11,19,20,25,25,25
`;

const HISTORY = `Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%,Total Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total Min Response Time,Total Max Response Time,Total Average Content Size
1795621794,0,,Aggregated,0.000000,0.000000,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,N/A,0,0,0,0.0,0,0,0
1795621796,5,GET,GET /,4.000000,0.000000,3,4,5,5,6,8,9,9,9,9,9,40,0,3,4.24,1.35,17.98,5120
1795621796,5,,Aggregated,10.000000,1.000000,3,3,4,4,6,7,9,16,16,16,16,99,1,3,4.2,1.32,25.3,2210
1795621795,3,,Aggregated,2.500000,0.000000,3,3,4,4,6,7,8,16,16,16,16,67,0,3,4.58,1.35,25.34,2210
`;

describe('parseCsv', () => {
  test('quoted fields keep their commas, doubled quotes and newlines', () => {
    expect(parseCsv('a,b\n"x, y","say ""hi""\nthere"\r\n')).toEqual([
      ['a', 'b'],
      ['x, y', 'say "hi"\nthere'],
    ]);
  });

  test('a last line without a newline is kept, blank lines are not', () => {
    expect(parseCsv('a,b\n\n1,2')).toEqual([
      ['a', 'b'],
      ['1', '2'],
    ]);
  });
});

describe('parseStats', () => {
  test('reads every row by its column names', () => {
    const rows = parseStats(STATS);
    expect(rows.map((r) => r.name)).toEqual(['GET /', 'POST /api/predict (pixels)', 'Aggregated']);
    const total = rows[2]!;
    expect(total.type).toBe('');
    expect(total.requests).toBe(147);
    expect(total.failures).toBe(2);
    expect(total.averageMs).toBeCloseTo(3.7402, 4);
    expect(total.maxMs).toBeCloseTo(25.345, 3);
    expect(total.requestsPerSecond).toBeCloseTo(33.064, 3);
    expect(total.percentilesMs['50%']).toBe(3);
    expect(total.percentilesMs['99%']).toBe(20);
    expect(total.percentilesMs['100%']).toBe(25);
  });

  test('columns in another order parse the same', () => {
    const [header, ...rows] = parseCsv(STATS);
    const order = header!.map((_, i) => i).reverse();
    const shuffled = [header!, ...rows].map((row) => order.map((i) => row[i]).join(',')).join('\n');
    expect(parseStats(shuffled)).toEqual(parseStats(STATS));
  });

  test('a missing column or a non-number is an error that names it', () => {
    expect(() => parseStats(STATS.replace('Failure Count', 'Failures'))).toThrow('"Failure Count"');
    expect(() => parseStats(STATS.replace(',147,', ',lots,'))).toThrow('"Request Count"');
    expect(() => parseStats('')).toThrow('empty');
  });
});

describe('parseHistory', () => {
  test('the Aggregated rows, oldest first, with N/A percentiles as null', () => {
    const points = parseHistory(HISTORY);
    expect(points.map((p) => p.timestamp)).toEqual([1795621794, 1795621795, 1795621796]);
    expect(points.map((p) => p.users)).toEqual([0, 3, 5]);
    expect(points[0]!.percentilesMs['95%']).toBeNull();
    expect(points[2]!.percentilesMs['95%']).toBe(7);
    expect(points[2]!.requestsPerSecond).toBe(10);
    expect(points[2]!.failuresPerSecond).toBe(1);
    expect(points[2]!.totalRequests).toBe(99);
    expect(points[2]!.totalFailures).toBe(1);
  });

  test('one request name on its own', () => {
    const points = parseHistory(HISTORY, 'GET /');
    expect(points).toHaveLength(1);
    expect(points[0]!.totalRequests).toBe(40);
  });
});

test('parseFailures reads errors that hold commas and quotes', () => {
  const text = 'Method,Name,Error,Occurrences\nPOST,POST /api/predict (pixels),"CatchResponseError(\'wrong digit: expected 5, got 3\')",2\nGET,GET /,CatchResponseError(\'HTTP 503\'),7\n';
  expect(parseFailures(text)).toEqual([
    { method: 'POST', name: 'POST /api/predict (pixels)', error: "CatchResponseError('wrong digit: expected 5, got 3')", occurrences: 2 },
    { method: 'GET', name: 'GET /', error: "CatchResponseError('HTTP 503')", occurrences: 7 },
  ]);
});
