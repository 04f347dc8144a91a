// Request bodies read within a limit, whether their length is declared or they come in chunks: a declared
// length over the limit is refused before a byte is read, and a chunked body is counted as it arrives and
// refused the moment it passes the limit, so a body larger than the limit is never held whole. And a body
// must arrive within BODY_READ_TIMEOUT_MS: a client that sends its headers and then trickles the body (or
// none) gets a 408 and its connection closed, instead of holding both for as long as it likes. JSON nested
// deeper than any route's body is refused unparsed.
import { within } from '../flow/clock.ts';
import { HttpError } from './errors.ts';

/** The largest body (16 MiB) needs 3.4 MB/s to arrive in time; a 512 KiB drawing, 100 kB/s. */
export const BODY_READ_TIMEOUT_MS = 5_000;

const tooLarge = (limit: number) => new HttpError(413, 'body_too_large', `body exceeds ${limit} bytes`);
const tooSlow = () => new HttpError(408, 'body_timeout', `the body did not arrive within ${BODY_READ_TIMEOUT_MS} ms`, { connection: 'close' });

/** Deeper than any body a route takes (a model's topology is about ten levels). */
export const MAX_JSON_DEPTH = 64;

/** The body as JSON; 413 beyond `limit` bytes, 400 when it is not JSON or nests deeper than MAX_JSON_DEPTH. */
export async function readJsonBody(request: Request, limit: number): Promise<unknown> {
  const reading = readText(request, limit);
  reading.catch(() => {}); // past the deadline its failure is nobody's business
  const text = await within(reading, BODY_READ_TIMEOUT_MS, () => {
    throw tooSlow();
  });
  // Before parsing: a value nested thousands deep parses, but a schema error then describes it recursively
  // (Elysia), which costs seconds and gigabytes, or overflows the stack.
  if (nestingDepth(text) > MAX_JSON_DEPTH) throw new HttpError(400, 'too_deep', `the body nests deeper than ${MAX_JSON_DEPTH} levels`);
  let shadowing: string | null = null;
  // The reviver costs a call per value: only for a body that may hold such a key, written or escaped.
  const reviver = SHADOWING_HINT.test(text) ? (key: string, value: unknown) => ((shadowing ??= SHADOWING_KEYS.has(key) ? key : null), value) : undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, reviver);
  } catch {
    throw new HttpError(400, 'malformed_json', 'the body is not valid JSON');
  }
  if (shadowing !== null) throw new HttpError(400, 'reserved_key', `the body has a key named ${shadowing}`);
  return parsed;
}

/**
 * Keys that hide the methods turning a value into text: an object with its own `toString` that is not a
 * function cannot be written into a message, and Elysia's validation errors do that (a 500). No route's
 * body has a field of these names.
 */
const SHADOWING_KEYS: ReadonlySet<string> = new Set(['toString', 'valueOf', 'toLocaleString']);
const SHADOWING_HINT = /toString|valueOf|toLocaleString|\\u/;

/** The deepest nesting of arrays and objects in JSON text, brackets inside strings not counted. Jumps from
 * one bracket or quote to the next, so a 16 MiB batch of numbers takes milliseconds. */
export function nestingDepth(text: string): number {
  const special = /["[\]{}]/g;
  let depth = 0;
  let deepest = 0;
  for (let match = special.exec(text); match !== null; match = special.exec(text)) {
    const c = match[0];
    if (c === '"') special.lastIndex = closingQuote(text, match.index) + 1;
    else if (c === '[' || c === '{') deepest = Math.max(deepest, ++depth);
    else depth--;
  }
  return deepest;
}

/** Where the string opened at `open` ends: the next quote not escaped by an odd run of backslashes. */
function closingQuote(text: string, open: number): number {
  for (let at = text.indexOf('"', open + 1); at !== -1; at = text.indexOf('"', at + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(at - 1 - backslashes) === 0x5c) backslashes++;
    if (backslashes % 2 === 0) return at;
  }
  return text.length;
}

async function readText(request: Request, limit: number): Promise<string> {
  const declared = request.headers.get('content-length');
  // Bun holds a declared body to its declared length: reading it whole is bounded.
  if (declared !== null) {
    if (!(Number(declared) <= limit)) throw tooLarge(limit);
    return request.text();
  }
  const reader = request.body?.getReader();
  if (!reader) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    chunks.push(value);
  }
  return new TextDecoder().decode(Buffer.concat(chunks));
}
