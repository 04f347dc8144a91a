// HTTP/1.1 by hand over a TCP socket, for requests fetch will not send: paths with raw `..` or bytes no URL
// parser lets through, Content-Length that lies, broken chunked framing, malformed header lines. The
// request goes out whole; what comes back is read until the first answer is complete or the server closes.
// A request whose framing never completes is followed by a half-close, so the server sees its end rather
// than waiting for bytes that will not come (a half-close after a complete request reads as an abort:
// Bun then drops the answer of a handler still at work).
import { connect } from 'node:net';

export interface RawAnswer {
  /** The first answer's status; null when the server closed the connection without answering. */
  readonly status: number | null;
  readonly headers: Headers;
  readonly body: string;
  /** The status line of every answer on the connection (a lying Content-Length makes a second request). */
  readonly statuses: readonly number[];
}

const NO_ANSWER: RawAnswer = Object.freeze({ status: null, headers: new Headers(), body: '', statuses: [] });

/** Sends `request` (bytes as they are) to 127.0.0.1:`port`; rejects if nothing settles in `timeoutMs`. */
export function sendRaw(port: number, request: Uint8Array, options: { halfClose: boolean; head?: boolean; timeoutMs?: number }): Promise<RawAnswer> {
  const timeoutMs = options.timeoutMs ?? 5_000;
  return new Promise((resolve, reject) => {
    const chunks: Uint8Array[] = [];
    const socket = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => (options.halfClose ? socket.end(request) : socket.write(request)));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    const timer = setTimeout(() => finish(() => reject(new Error(`no answer and no close within ${timeoutMs} ms`))), timeoutMs);
    socket.on('data', (chunk: Buffer) => {
      chunks.push(view(chunk));
      const answer = parseAnswer(Buffer.concat(chunks), false, options.head ?? false);
      if (answer) finish(() => resolve(answer));
    });
    socket.on('end', () => finish(() => resolve(parseAnswer(Buffer.concat(chunks), true, options.head ?? false) ?? NO_ANSWER)));
    // A reset after the server refused the request is an answer too (no status); the test decides.
    socket.on('error', () => finish(() => resolve(parseAnswer(Buffer.concat(chunks), true, options.head ?? false) ?? NO_ANSWER)));
  });
}

/** The first final answer in `bytes` (past any 100 Continue), once it is complete (or, at the end of the
 * stream, whatever arrived). */
function parseAnswer(all: Buffer, ended: boolean, head: boolean): RawAnswer | null {
  let bytes = all;
  while (/^HTTP\/\d\.\d 1\d\d /.test(bytes.toString('latin1', 0, 16))) {
    const interimEnd = bytes.indexOf('\r\n\r\n');
    if (interimEnd === -1) break;
    bytes = bytes.subarray(interimEnd + 4);
  }
  const text = bytes.toString('latin1');
  const headEnd = text.indexOf('\r\n\r\n');
  if (headEnd === -1) return ended && text.length > 0 ? { ...NO_ANSWER, status: statusOf(text), statuses: allStatuses(text) } : ended ? NO_ANSWER : null;
  const [statusLine = '', ...lines] = text.slice(0, headEnd).split('\r\n');
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  const rest = bytes.subarray(Buffer.byteLength(text.slice(0, headEnd + 4), 'latin1'));
  const length = headers.get('content-length');
  const status = statusOf(statusLine);
  let body: Buffer | null = null;
  // An answer to HEAD, a 204 and a 304 have no body, whatever their Content-Length says.
  if (head || status === 204 || status === 304) body = Buffer.alloc(0);
  else if (length !== null) body = rest.length >= Number(length) ? rest.subarray(0, Number(length)) : null;
  else if (/chunked/i.test(headers.get('transfer-encoding') ?? '')) body = dechunk(rest);
  else if (ended) body = rest;
  if (body === null && !ended) return null;
  return { status, headers, body: new TextDecoder().decode(body ?? rest), statuses: allStatuses(text) };
}

function statusOf(statusLine: string): number | null {
  const match = /^HTTP\/\d\.\d (\d{3})/.exec(statusLine);
  return match ? Number(match[1]) : null;
}

function allStatuses(text: string): number[] {
  return [...text.matchAll(/(?:^|\r\n)HTTP\/\d\.\d (\d{3}) /g)].map((m) => Number(m[1]));
}

/** A chunked body once its last chunk has arrived; null before. */
function dechunk(bytes: Buffer): Buffer | null {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    const lineEnd = bytes.indexOf('\r\n', at);
    if (lineEnd === -1) return null;
    const size = Number.parseInt(bytes.subarray(at, lineEnd).toString('latin1'), 16);
    if (Number.isNaN(size)) return Buffer.concat(parts);
    if (size === 0) return Buffer.concat(parts);
    if (bytes.length < lineEnd + 2 + size + 2) return null;
    parts.push(view(bytes.subarray(lineEnd + 2, lineEnd + 2 + size)));
    at = lineEnd + 2 + size + 2;
  }
}

/** A Buffer seen as the plain Uint8Array it is (the Node and DOM typings disagree on its buffer type). */
function view(buffer: Buffer): Uint8Array {
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}
