// Clients that send slowly, or too much, on raw sockets: each gets its answer or loses its connection
// within a bound, with the default settings, and the server serves others meanwhile. The tests run side by
// side (each on sockets of its own): most of their time is the server's deadlines running out. Who closed the
// connection tells whether the server enforced its bound: the client here only gives up long after every
// bound of the server's.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { connect, type Socket } from 'node:net';
import { BODY_READ_TIMEOUT_MS } from '../../src/http/body.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';

let stratus: Awaited<ReturnType<typeof startLocal>>;
let port: number;
beforeAll(async () => {
  stratus = await startLocal();
  port = Number(new URL(stratus.url).port);
});
afterAll(() => stratus.stop());

interface Outcome {
  /** What the server sent before it closed, as text. */
  readonly answer: string;
  /** ms from the first byte sent until the connection closed. */
  readonly closedAfterMs: number;
  /** The server closed the connection, not the client giving up (`giveUpMs`). */
  readonly closedByServer: boolean;
}

/** Sends `parts` one after another, `gapMs` apart, until the server closes the connection (or `giveUpMs`). */
function rawExchange(parts: readonly string[], gapMs: number, giveUpMs = 20_000): Promise<Outcome> {
  return rawExchangeOn(port, parts, gapMs, giveUpMs);
}

function rawExchangeOn(serverPort: number, parts: readonly string[], gapMs: number, giveUpMs = 20_000): Promise<Outcome> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket: Socket = connect(serverPort, '127.0.0.1');
    let answer = '';
    let next = 0;
    let gaveUp = false;
    const send = () => {
      if (socket.destroyed || next >= parts.length) return;
      socket.write(parts[next++] as string);
      setTimeout(send, gapMs);
    };
    const giveUp = setTimeout(() => {
      gaveUp = true;
      socket.destroy();
    }, giveUpMs);
    socket.on('connect', send);
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(giveUp);
      resolve({ answer, closedAfterMs: performance.now() - started, closedByServer: !gaveUp });
    });
  });
}

const head = (length: number) =>
  `POST /api/predict HTTP/1.1\r\nHost: stratus\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;
const statusOf = (answer: string) => Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1]);

test.concurrent('a body that stops after the headers: 408 with a JSON error, and the connection closed, at the body deadline', async () => {
  const stalled = rawExchange([head(2000), '{"pixels": ['], 0);
  // Served meanwhile.
  const other = await postJson(`${stratus.url}/api/predict`, { pixels: Array(784).fill(0) });
  expect(other.status).toBe(200);
  const { answer, closedAfterMs, closedByServer } = await stalled;
  expect(statusOf(answer)).toBe(408);
  expect(answer).toContain('"code":"body_timeout"');
  expect(closedByServer).toBe(true);
  // A lower bound only: the server waited for the body until its deadline (a slow machine adds to it).
  expect(closedAfterMs).toBeGreaterThanOrEqual(BODY_READ_TIMEOUT_MS - 100);
}, 20_000);

test.concurrent('a body trickled a byte at a time gets the same deadline: it may not take longer by never going silent', async () => {
  const body = JSON.stringify({ pixels: Array(784).fill(0) });
  // A byte every 100 ms: the whole body would take minutes, past the client's 20 s give-up. So a 408 and
  // the server closing show a deadline on the whole body, not one on the silence between bytes.
  expect(body.length * 100).toBeGreaterThan(20_000);
  const { answer, closedByServer } = await rawExchange([head(body.length), ...body.split('')], 100);
  expect(statusOf(answer)).toBe(408);
  expect(closedByServer).toBe(true);
}, 20_000);

test.concurrent('a body refused before it is read (over the client\'s rate) closes the connection with the answer', async () => {
  const limited = await startLocal(['--rate-limit', 'api=0.01/1']);
  try {
    const limitedPort = Number(new URL(limited.url).port);
    const first = await rawExchangeOn(limitedPort, [head(2000), '{"pixels": ['], 0);
    expect(statusOf(first.answer)).toBe(408);
    // Out of requests now: the second is refused before its body, and the connection closes with the
    // answer instead of waiting for a body that never comes.
    const second = await rawExchangeOn(limitedPort, [head(2000), '{"pixels": ['], 0);
    expect(statusOf(second.answer)).toBe(429);
    expect(second.closedByServer).toBe(true);
    // Closed before the body deadline could have closed it: the server did not wait for the body. The
    // bound is the server's own alternative, not a speed target.
    expect(second.closedAfterMs).toBeLessThan(BODY_READ_TIMEOUT_MS);
  } finally {
    await limited.stop();
  }
}, 20_000);

test.concurrent('headers over 16 KiB: 431 at once, and the connection closed', async () => {
  const { answer, closedAfterMs, closedByServer } = await rawExchange([`GET /v2/health/live HTTP/1.1\r\nHost: stratus\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`], 0);
  expect(statusOf(answer)).toBe(431);
  expect(closedByServer).toBe(true);
  // As above: closed by the refusal, before the server's first deadline (the body's) could close it.
  expect(closedAfterMs).toBeLessThan(BODY_READ_TIMEOUT_MS);
});

test.concurrent('headers that never end, and idle connections: closed by the time the request deadline and its margin have passed', async () => {
  const slowHead = 'GET /v2/health/live HTTP/1.1\r\nHost: stratus\r\nX-Slow: '.split('');
  const idleLimitMs = stratus.config.requestTimeoutMs + 2_000;
  // Beside it, a connection that never sends a byte, and one left open after its request was answered.
  const [slow, silent, kept] = await Promise.all([
    rawExchange([...slowHead, ...Array(200).fill('a')], 100, idleLimitMs + 10_000),
    rawExchange([], 0, idleLimitMs + 10_000),
    rawExchange(['GET /v2/health/live HTTP/1.1\r\nHost: stratus\r\n\r\n'], 0, idleLimitMs + 10_000),
  ]);
  expect(slow.answer).toBe('');
  expect(silent.answer).toBe('');
  expect(statusOf(kept.answer)).toBe(200);
  // The client gives up only 10 s after the limit: closed by the server, the limit holds.
  for (const { closedByServer } of [slow, silent, kept]) expect(closedByServer).toBe(true);
}, 40_000);
