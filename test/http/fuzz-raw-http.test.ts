// Property-based fuzzing below fetch, with fast-check and raw TCP: request targets no URL parser would
// send (raw `..`, backslashes, unicode bytes, absolute and asterisk forms), methods of any name, Host
// headers missing, empty or malformed, header lines that are malformed, repeated or huge, and bodies whose framing lies (Content-Length too long, too
// short, twice or not a number; chunked encoding broken or past the body limit). What must hold: the
// server answers or, for a request it cannot frame, closes the connection; never a 5xx (but 505 for an
// HTTP version it does not speak); a 2xx only for a route the target resolves to; the app's 4xx are short
// JSON errors and the HTTP parser's own refusals are bare 4xx; the process answers and holds no more
// memory afterwards. Control bytes in the request line get a 505 from Bun's own parser, not a 400: that is
// Bun's to mend, so no generator here puts them there.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { BATCH, checkAnswer, fuzzOptions, NO_RATE_LIMITS, printable, Tally } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, settledRss } from '../helpers/fuzz-memory.ts';
import { mayBeServed, segment } from '../helpers/fuzz-paths.ts';
import { rawBody } from '../helpers/fuzz-values.ts';
import { sendRaw, type RawAnswer } from '../helpers/raw-http.ts';

const SEED = 1_705_008;
const CASES = 2_400;
const STANDARD_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.0'];
/** /api/predict and the page take 512 KiB at most, even chunked (body.ts). */
const SMALL_LIMIT = 512 * 1024;

interface RawCase {
  readonly method: string;
  readonly target: string;
  readonly version: string;
  /** Lines end in a bare LF, which Bun's parser reads as part of the version (a 505). */
  readonly bareLf: boolean;
  readonly headerLines: readonly string[];
  readonly framing: Framing;
  readonly body: string;
  /** The bytes sent. */
  readonly bytes: Uint8Array;
}

type Framing =
  | 'none' | 'length' | 'length too long' | 'length too short' | 'length not a number' | 'length twice'
  | 'chunked' | 'chunked, no end' | 'chunked, bad size' | 'chunked and length' | 'chunked, past the limit' | 'other coding';

// The request line takes visible ASCII and (Bun lets them through) bytes above 0x7f, never a space or a
// control byte: a target is the fuzzed segments with any of those removed.
const rawSafe = (s: string) => s.replace(/[\u0000-\u0020\u007f]/g, '');

const target = fc.oneof(
  { weight: 10, arbitrary: fc.record({ parts: fc.array(segment, { minLength: 1, maxLength: 6 }), join: fc.constantFrom('/', '/', '//', '\\', '/./', '/../') }).map(({ parts, join }) => `/${parts.map(rawSafe).join(join)}`) },
  { weight: 2, arbitrary: fc.constantFrom('/assets/pad.js', '/assets/../assets/pad.js', '/assets/./pad.js', '/assets//pad.js', '/x/../../../etc/passwd', '/..', '/../', '/.%2e/', '/%2e%2e/%2e%2e/etc/passwd', '/assets/%2e%2e/%2e%2e/package.json', '/assets/pad.js%00.png', '/assets\\..\\..\\package.json', '/v2/health/live', '/', '/?', '/#') },
  { weight: 1, arbitrary: fc.constantFrom('*', 'http://127.0.0.1/assets/pad.js', 'http://evil.example/../../etc/passwd', 'https://x/', 'example.com:443', '//evil.example/', 'assets/pad.js', '?x', '') },
);

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom('GET', 'GET', 'GET', 'HEAD', 'POST', 'POST') },
  { weight: 2, arbitrary: fc.constantFrom(...STANDARD_METHODS, 'get', 'Post', 'CONNECT', 'PROPFIND', 'PRI', 'M-SEARCH') },
  { weight: 1, arbitrary: fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,12}$/) },
);

const headerValue = fc.string({ unit: fc.oneof(fc.integer({ min: 0x20, max: 0x7e }), fc.constant(0x09), fc.integer({ min: 0x80, max: 0xff })).map((c) => String.fromCharCode(c)), maxLength: 60 });
const headerLine = fc.oneof(
  { weight: 8, arbitrary: fc.tuple(fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,20}$/), headerValue).map(([name, value]) => `${name}: ${value}`) },
  { weight: 2, arbitrary: fc.constantFrom('Cookie: stratus_session=', 'Accept-Encoding: gzip, deflate, br', 'Range: bytes=0-0', 'Expect: 100-continue', 'Expect: nonsense', 'Upgrade: websocket', 'Connection: upgrade', 'Content-Type: application/json', 'Content-Type: text/plain', 'X-Forwarded-For: 1.2.3.4', 'Origin: null', 'Sec-Fetch-Site: cross-site') },
  { weight: 1, arbitrary: fc.constantFrom('NoColonHere', ' Folded: line', 'X-A : b', 'X-B:', ': no name', 'X-C: a\rb', `X-Long: ${'a'.repeat(12_000)}`, `X-Huge: ${'a'.repeat(70_000)}`, 'Host:', 'Transfer-Encoding:') },
);

const framing: fc.Arbitrary<Framing> = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<Framing>('none', 'length', 'length') },
  { weight: 4, arbitrary: fc.constantFrom<Framing>('length too long', 'length too short', 'length not a number', 'length twice', 'chunked', 'chunked, no end', 'chunked, bad size', 'chunked and length', 'other coding') },
  { weight: 1, arbitrary: fc.constant<Framing>('chunked, past the limit') },
);

function chunked(body: string, sizes: number[]): string {
  let out = '';
  let at = 0;
  for (const size of sizes) {
    if (at >= body.length) break;
    const part = body.slice(at, at + Math.max(1, size));
    out += `${Buffer.byteLength(part).toString(16)}\r\n${part}\r\n`;
    at += part.length;
  }
  if (at < body.length) out += `${Buffer.byteLength(body.slice(at)).toString(16)}\r\n${body.slice(at)}\r\n`;
  return out;
}

/** The header lines and the bytes after them for `framing`. */
function framed(kind: Framing, body: string, sizes: number[], lie: number): { lines: string[]; payload: string } {
  const length = Buffer.byteLength(body);
  switch (kind) {
    case 'none': return { lines: [], payload: '' };
    case 'length': return { lines: [`Content-Length: ${length}`], payload: body };
    case 'length too long': return { lines: [`Content-Length: ${length + 1 + lie}`], payload: body };
    case 'length too short': return { lines: [`Content-Length: ${Math.max(0, length - 1 - lie)}`], payload: body };
    case 'length not a number': return { lines: [`Content-Length: ${['-1', 'abc', '1e3', '+5', ' 5 ', '0x10', '99999999999999999999', '', '5,5'][lie % 9]}`], payload: body };
    case 'length twice': return { lines: [`Content-Length: ${length}`, `Content-Length: ${lie % 2 === 0 ? length : length + 1}`], payload: body };
    case 'chunked': return { lines: ['Transfer-Encoding: chunked'], payload: `${chunked(body, sizes)}0\r\n\r\n` };
    case 'chunked, no end': return { lines: ['Transfer-Encoding: chunked'], payload: chunked(body, sizes) };
    case 'chunked, bad size': return { lines: ['Transfer-Encoding: chunked'], payload: `${['zz', '-1', 'ffffffffffffffffff', '1;', ' 2', '0x2'][lie % 6]}\r\n${body}\r\n0\r\n\r\n` };
    case 'chunked and length': return { lines: ['Transfer-Encoding: chunked', `Content-Length: ${length}`], payload: `${chunked(body, sizes)}0\r\n\r\n` };
    case 'chunked, past the limit': {
      const big = `{"pixels":[${'0,'.repeat(SMALL_LIMIT / 2 + 1000)}0]}`;
      return { lines: ['Transfer-Encoding: chunked'], payload: `${chunked(big, [65_536, 65_536, 65_536, 65_536, 65_536, 65_536, 65_536, 65_536, 65_536])}0\r\n\r\n` };
    }
    case 'other coding': return { lines: [['Transfer-Encoding: gzip', 'Transfer-Encoding: chunked, identity', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: identity'][lie % 4] as string], payload: body };
  }
}

function rawCases(port: number): fc.Arbitrary<RawCase> {
  return fc
    .record({
      method,
      target: fc.oneof({ weight: 9, arbitrary: target }, { weight: 1, arbitrary: fc.constantFrom('/api/predict', '/page/clear', '/page/predict', '/v2/models/mnist/infer', '/api/models') }),
      version: fc.oneof({ weight: 30, arbitrary: fc.constantFrom(...VERSIONS) }, { weight: 1, arbitrary: fc.constantFrom('HTTP/1.2', 'HTTP/2.0', 'HTTP/0.9', 'http/1.1', 'HTTP/1', 'HTTP/1.1.1') }),
      host: fc.oneof(
        { weight: 12, arbitrary: fc.constantFrom(`Host: 127.0.0.1:${port}`, 'Host: evil.example', 'Host: localhost:1') },
        // None (HTTP/1.0 may omit it), empty, or no valid URL authority: once each a 500 for every route.
        { weight: 2, arbitrary: fc.constantFrom(null, 'Host:', 'Host: a b', 'Host: x:99999', 'Host: [::1', 'Host: x/y', 'Host: x@y', 'Host: %00', `Host: 127.0.0.1:${port}\r\nHost: evil.example`) },
      ),
      close: fc.oneof({ weight: 9, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
      json: fc.boolean(),
      headers: fc.array(headerLine, { maxLength: 4 }),
      framing,
      body: fc.oneof(fc.constantFrom('{}', '{"pixels":[0.5]}', '{"drawing":{"width":10,"height":10,"strokes":[[{"x":1,"y":1}]]}}'), rawBody.map((b) => (typeof b === 'string' ? b : Buffer.from(b).toString('latin1')))),
      sizes: fc.array(fc.integer({ min: 1, max: 64 }), { maxLength: 6 }),
      lie: fc.nat(1_000),
      bareLf: fc.oneof({ weight: 19, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
    })
    .map(({ method: anyMethod, target: anyTarget, version, host, close, json, headers, framing, body, sizes, lie, bareLf }) => {
      // A body past the limit goes where the limit is 512 KiB: the chunked reader must stop it there.
      const pastLimit = framing === 'chunked, past the limit';
      const method = pastLimit ? 'POST' : anyMethod;
      const target = pastLimit ? ['/api/predict', '/page/predict', '/page/clear', '/page/feedback'][lie % 4] as string : anyTarget;
      const { lines, payload } = framed(framing, body, sizes, lie);
      const eol = bareLf ? '\n' : '\r\n';
      const headerLines = [...(host === null ? [] : [host]), ...(close ? ['Connection: close'] : []), ...(json ? ['Content-Type: application/json'] : []), ...headers, ...lines];
      const head = `${method} ${target} ${version}${eol}${headerLines.join(eol)}${eol}${eol}`;
      // UTF-8 throughout, as Content-Length and the chunk sizes count it.
      const bytes = Buffer.from(head + payload, 'utf8');
      return printable({ method, target, version, bareLf, headerLines, framing, body, bytes: new Uint8Array(bytes) }, describeRaw);
    });
}

function describeRaw(request: RawCase): string {
  const text = Buffer.from(request.bytes).toString('latin1');
  return `${JSON.stringify(text.length > 600 ? `${text.slice(0, 600)}…` : text)} (${request.bytes.byteLength} bytes, framing: ${request.framing})`;
}

/** A body framed as HTTP/1.1 says (or none): the server can tell where the request ends. */
const framedWell = (request: RawCase) => request.framing === 'none' || request.framing === 'length' || request.framing === 'chunked';

/** Requests Bun may answer by closing the connection: a method it does not know (it matches methods
 * case-sensitively: `get` is unknown) or a body whose end it cannot find. Everything else gets an answer. */
const mayGoUnanswered = (request: RawCase) => !STANDARD_METHODS.includes(request.method) || !framedWell(request);

/** A request line that ends in HTTP/1.0 or HTTP/1.1 and CRLF; for any other, a 505 is a fair answer. */
const speaksHttp1 = (request: RawCase) => VERSIONS.includes(request.version) && !request.bareLf;

function judge(request: RawCase, answer: RawAnswer): void {
  const fail = (why: string) => {
    throw new Error(`${why}: ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))} for ${describeRaw(request)}`);
  };
  const badVersion = !speaksHttp1(request);
  for (const status of answer.statuses) if (status >= 500 && !(status === 505 && badVersion)) fail(`a ${status} on the connection`);
  if (answer.status === null) {
    if (!mayGoUnanswered(request)) fail('closed without an answer');
    return;
  }
  if (answer.status >= 200 && answer.status < 300 && !mayBeServed(request.method, request.target)) fail('a 2xx at a target no route serves');
  const fromApp = answer.headers.get('x-content-type-options') === 'nosniff';
  if (fromApp) {
    // The app's own answer: the rules of every fuzz suite.
    checkAnswer({ method: request.method, path: request.target, headers: {} }, { status: answer.status, headers: answer.headers, text: answer.body });
  } else if (!(answer.status >= 400 && answer.status < 500) && !(answer.status === 505 && badVersion)) {
    fail("the HTTP parser's refusal is not a 4xx");
  }
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
let port = 0;
let rssBefore = 0;
const tally = new Tally();

async function fuzzRaw(seed: number, count: number, record: Tally): Promise<void> {
  const property = fc.asyncProperty(fc.array(rawCases(port), { minLength: BATCH, maxLength: BATCH }), async (batch) => {
    await Promise.all(
      batch.map(async (request) => {
        let answer: RawAnswer;
        try {
          answer = await sendRaw(port, request.bytes, { halfClose: !framedWell(request), head: request.method === 'HEAD' });
        } catch (error) {
          throw new Error(`${String(error)} for ${describeRaw(request)}`);
        }
        const outcome = answer.status === null ? 'closed' : answer.headers.get('x-content-type-options') ? `app ${answer.status}` : `parser ${answer.status}`;
        record.addOutcome(request.framing === 'none' || request.framing === 'length' ? 'framed' : request.framing, outcome);
        judge(request, answer);
      }),
    );
  });
  await fc.assert(property, fuzzOptions(seed, count));
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS]);
  port = Number(new URL(stratus.url).port);
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  await fuzzRaw(SEED + 1, 96, new Tally());
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${CASES} raw requests with odd targets, headers and framing: answered (or closed when unframeable), never a 5xx`, async () => {
  await fuzzRaw(SEED, CASES, tally);
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  // The app was reached (its 200s and 404s), the parser refused some, and lying framings were met.
  expect(tally.count('framed', 'app 200')).toBeGreaterThan(0);
  expect(tally.count('framed', 'app 404')).toBeGreaterThan(CASES / 10);
  expect(tally.count('chunked, past the limit', 'app 413')).toBeGreaterThan(0);
  for (const lie of ['length too long', 'length too short', 'chunked, bad size']) expect(tally.count(lie), lie).toBeGreaterThan(0);
}, 120_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectSettledMemory(rssBefore);
}, 30_000);
