// The hostile half of bench/abuse.ts, run as a process of its own so that generating the flood does not
// delay the timers of the probe and the normal client that bench/abuse.ts measures beside it.
//
//   bun run bench/abuse-flood.ts --kind drawing|pixels|slow --url http://127.0.0.1:PORT --connections N --seconds S
//
// Prints `ready` once the flood is under way, then, when it is over, one line of JSON (a FloodResult).
// The flood sends no cookie: the server knows it only by its address. Also exports the request bodies
// (a real MNIST digit, the costliest drawing) that bench/abuse.ts sends as well.
import { writeSync } from 'node:fs';
import * as net from 'node:net';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadSplit } from '../src/train/mnist.ts';
import { costliestDrawing as costliest } from '../test/helpers/costly-drawing.ts';

export const FLOOD_KINDS = ['drawing', 'pixels', 'slow'] as const;
export type FloodKind = (typeof FLOOD_KINDS)[number];

export interface SlowResult {
  readonly opened: number;
  /** Connections refused or reset before their headers were out. */
  readonly connectErrors: number;
  /** Milliseconds after `ready` at which the server closed each connection it closed, ascending. */
  readonly closedAtMs: readonly number[];
  /** The status lines the server sent on slow connections before closing them ("none": closed silently). */
  readonly closeAnswers: Record<string, number>;
  readonly trickling: number;
  readonly stalled: number;
}

export interface FloodResult {
  readonly kind: FloodKind;
  readonly connections: number;
  readonly seconds: number;
  readonly sent: number;
  /** By HTTP status, or "error" (network error) — answered requests only. */
  readonly statuses: Record<string, number>;
  /** Requests still in flight when the flood ended (aborted). */
  readonly unanswered: number;
  readonly slow?: SlowResult;
}

export const DEFAULT_MNIST = resolve(import.meta.dir, '../../shared/data/mnist');

/** `count` MNIST test digits as /api/predict bodies (3 decimals: a tenth of the JSON, the same answers);
 * a synthetic digit (a vertical bar, a "1") when the data is missing, so the bench still runs. */
export function digitBodies(count: number, mnistDir = DEFAULT_MNIST): { bodies: string[]; synthetic: boolean } {
  try {
    const split = loadSplit(mnistDir, 'test');
    const bodies = Array.from({ length: Math.min(count, split.count) }, (_, i) =>
      JSON.stringify({ pixels: Array.from(split.images.subarray(i * 784, (i + 1) * 784), (v) => Math.round(v * 1000) / 1000) }),
    );
    return { bodies, synthetic: false };
  } catch {
    const pixels = Array.from({ length: 784 }, (_, i) => (i % 28 >= 12 && i % 28 <= 15 && i >= 4 * 28 && i < 24 * 28 ? 1 : 0));
    return { bodies: [JSON.stringify({ pixels })], synthetic: true };
  }
}

/** The costliest drawing the API admits (test/helpers/costly-drawing.ts) as a request body, and its size. */
export function costliestDrawing(): { body: string; describe: string } {
  const drawing = costliest();
  const points = drawing.strokes.reduce((sum, stroke) => sum + stroke.length, 0);
  const body = JSON.stringify({ drawing });
  return {
    body,
    describe: `${drawing.strokes.length} strokes, ${points.toLocaleString('en')} points, ${drawing.width}×${drawing.height}, lineWidth ${drawing.lineWidth}, ${(body.length / 1024).toFixed(0)} KiB`,
  };
}

/** Tells bench/abuse.ts the flood is under way. Written straight to the pipe: console.log to a pipe is
 * buffered, and the line would arrive only when the flood is over. */
function sayReady(): void {
  writeSync(1, 'ready\n');
}

function count(tally: Record<string, number>, key: string): void {
  tally[key] = (tally[key] ?? 0) + 1;
}

/** `connections` keep-alive loops, each posting the next body as soon as the last is answered. */
async function requestFlood(kind: 'drawing' | 'pixels', url: string, connections: number, seconds: number): Promise<FloodResult> {
  const bodies = kind === 'drawing' ? [costliestDrawing().body] : digitBodies(256).bodies;
  const statuses: Record<string, number> = {};
  let sent = 0;
  let unanswered = 0;
  // Ended at the deadline, in flight or not: the flood lasts `seconds`, not until the server catches up.
  const stop = new AbortController();
  const loop = async (offset: number) => {
    for (let i = offset; !stop.signal.aborted; i++) {
      sent++;
      try {
        const response = await fetch(`${url}/api/predict`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: bodies[i % bodies.length] as string,
          signal: stop.signal,
        });
        await response.arrayBuffer();
        count(statuses, String(response.status));
      } catch {
        if (stop.signal.aborted) unanswered++;
        else {
          count(statuses, 'error');
          await Bun.sleep(10); // a refused connection must not turn the loop into a busy spin
        }
      }
    }
  };
  sayReady();
  const loops = Array.from({ length: connections }, (_, c) => loop(c * 7));
  await Bun.sleep(seconds * 1000);
  stop.abort();
  await Promise.all(loops);
  return { kind, connections, seconds, sent, statuses, unanswered };
}

/**
 * `connections` raw sockets, each sending a whole request head that announces a real digit's body, then
 * only part of it: half trickle one byte a second (never idle long enough for an idle timeout), half stall.
 * Records when the server closes each one, and what (if anything) it answered first.
 */
async function slowFlood(url: string, connections: number, seconds: number): Promise<FloodResult> {
  const { port, host } = new URL(url);
  const body = digitBodies(1).bodies[0] as string;
  const head =
    `POST /api/predict HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: keep-alive\r\n\r\n`;
  const closedAtMs: number[] = [];
  const closeAnswers: Record<string, number> = {};
  let connectErrors = 0;
  let ending = false;
  let readyAt = 0;
  const sockets: net.Socket[] = [];
  const timers: ReturnType<typeof setInterval>[] = [];

  const open = (trickle: boolean) =>
    new Promise<void>((connected) => {
      let answer = 'none';
      let headersOut = false;
      let closed = false;
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write(head, () => {
          headersOut = true;
          connected();
        });
        if (trickle) {
          let next = 0;
          timers.push(setInterval(() => !closed && next < body.length - 1 && socket.write(body[next++] as string), 1000));
        }
      });
      sockets.push(socket);
      socket.setEncoding('latin1');
      socket.on('data', (chunk: string) => {
        if (answer === 'none') answer = chunk.slice(0, chunk.indexOf('\r\n')).replace(/^HTTP\/1\.1 /, '') || 'none';
      });
      socket.on('error', () => {}); // seen as 'close' below
      socket.on('close', () => {
        closed = true;
        if (!headersOut) {
          connectErrors++;
          return connected();
        }
        if (ending) return;
        closedAtMs.push(performance.now() - readyAt);
        count(closeAnswers, answer);
      });
    });

  await Promise.all(Array.from({ length: connections }, (_, i) => open(i % 2 === 0)));
  readyAt = performance.now();
  sayReady();
  await Bun.sleep(seconds * 1000);
  ending = true;
  for (const timer of timers) clearInterval(timer);
  for (const socket of sockets) socket.destroy();
  return {
    kind: 'slow',
    connections,
    seconds,
    sent: connections,
    statuses: {},
    unanswered: 0,
    slow: {
      opened: connections - connectErrors,
      connectErrors,
      closedAtMs: closedAtMs.sort((a, b) => a - b),
      closeAnswers,
      trickling: Math.ceil(connections / 2),
      stalled: Math.floor(connections / 2),
    },
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      kind: { type: 'string' },
      url: { type: 'string' },
      connections: { type: 'string' },
      seconds: { type: 'string' },
    },
  });
  const kind = values.kind as FloodKind;
  if (!FLOOD_KINDS.includes(kind) || !values.url) throw new Error('usage: --kind drawing|pixels|slow --url URL --connections N --seconds S');
  const connections = Number(values.connections);
  const seconds = Number(values.seconds);
  const result = kind === 'slow' ? await slowFlood(values.url, connections, seconds) : await requestFlood(kind, values.url, connections, seconds);
  writeSync(1, `${JSON.stringify(result)}\n`);
  process.exit(0);
}
