// Property-based fuzzing of every path and method through fetch, with fast-check: static assets reached by
// traversal in every spelling (dot segments, percent- and double-encoding, overlong UTF-8, backslashes,
// NUL), names of files outside the served set, unicode and long paths, any method, and the headers caches
// and proxies add (Range, conditional requests, X-Original-URL, method overrides); then fewer of them
// against the default rate limits, as deployed. What must hold: a 2xx only for a route the path resolves to (an asset answered
// with exactly that asset), a short JSON 4xx (or a bodiless answer to HEAD) otherwise, never a 5xx; the
// process answers and holds no more memory afterwards. Paths fetch would normalize: fuzz-raw-http.test.ts.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { BODYLESS_METHODS, describeRequest, NO_RATE_LIMITS, fuzzRoutes, printable, Tally, type Answer, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, settledRss } from '../helpers/fuzz-memory.ts';
import { assetOf, ASSETS, mayBeServed, urlPath } from '../helpers/fuzz-paths.ts';
import { rawBody } from '../helpers/fuzz-values.ts';

const SEED = 1_705_007;
const CASES = 3_000;
const LIMITED_CASES = 240;
/** Refusals for rate are paused 250 ms each (app.ts): sent this many at once, the pauses overlap. */
const LIMITED_BATCH = 48;

const method = fc.oneof(
  { weight: 12, arbitrary: fc.constant('GET') },
  { weight: 2, arbitrary: fc.constant('HEAD') },
  { weight: 4, arbitrary: fc.constantFrom('POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'COPY', 'MOVE', 'LOCK', 'get', 'post', 'delete') },
);

const extraHeaders: fc.Arbitrary<Record<string, string>> = fc.dictionary(
  fc.constantFrom('accept', 'accept-encoding', 'range', 'if-none-match', 'if-modified-since', 'if-range', 'x-original-url', 'x-rewrite-url', 'x-http-method-override', 'x-forwarded-for', 'x-forwarded-host', 'content-type', 'cache-control', 'referer'),
  fc.constantFrom('*/*', 'text/html', 'application/json', 'gzip, br', 'identity;q=0, *;q=0', 'bytes=0-10', 'bytes=-1', 'bytes=99999999-', 'bytes=abc', 'bytes=0-1,2-3,4-5', '*', '"x"', 'W/"x"', 'Thu, 01 Jan 1970 00:00:00 GMT', 'not a date', '/etc/passwd', '/../../package.json', 'DELETE', 'PUT', '127.0.0.1, 10.0.0.1', 'evil.example', 'application/json', 'text/plain', 'no-cache', 'http://evil.example/'),
  { maxKeys: 4 },
);

interface PathCase extends FuzzRequest {}

const cases: fc.Arbitrary<PathCase> = fc
  .record({ method, path: urlPath, headers: extraHeaders, body: rawBody })
  .map(({ method, path, headers, body }) => printable({ method, path, headers, ...(BODYLESS_METHODS.includes(method.toUpperCase()) ? {} : { body }) }, describeRequest));

let stratus: Awaited<ReturnType<typeof startLocal>>;
let limited: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();
/** Each asset as served at its own path, to compare what a fuzzed path gets against. */
const assetBodies = new Map<string, string>();

/** The path fetch actually sends: the URL parser resolves dot segments and backslashes first. */
const sentPath = (path: string) => {
  const url = new URL(`http://localhost${path}`);
  return url.pathname + url.search;
};

function judge(request: PathCase, answer: Answer): void {
  if (answer.status >= 300) return;
  const target = sentPath(request.path);
  if (!mayBeServed(request.method, target)) throw new Error(`a ${answer.status} at a path no route serves (${target}) for ${describeRequest(request)}`);
  const asset = assetOf(target);
  if (asset && request.method.toUpperCase() === 'GET' && answer.text !== assetBodies.get(asset)) {
    throw new Error(`${target} answered with something other than ${asset} for ${describeRequest(request)}`);
  }
}

const family = (request: PathCase) => (['GET', 'HEAD'].includes(request.method.toUpperCase()) ? request.method.toUpperCase() : 'other methods');

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS]);
  limited = await startLocal();
  for (const asset of ASSETS) assetBodies.set(asset, await (await fetch(`${stratus.url}${asset}`)).text());
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED + 1, count: 96, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => Promise.all([stratus.stop(), limited.stop()]));

test(`${CASES} fuzzed paths, methods and headers: a 2xx only for a route (an asset exactly), a short JSON 4xx otherwise, never a 5xx`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases, seed: SEED, count: CASES, tally, family, judge });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  // Real assets and routes were reached through the noise, and refusals of every kind were met.
  expect(tally.count('GET', '200')).toBeGreaterThan(50);
  expect(tally.count('HEAD', '200')).toBeGreaterThan(0);
  expect(tally.count('GET', '404 not_found')).toBeGreaterThan(CASES / 4);
  expect(tally.count('other methods', '405 method_not_allowed')).toBeGreaterThan(0);
  expect(tally.count('other methods', '404 not_found')).toBeGreaterThan(0);
}, 120_000);

/** Requests of the limited kinds (pages, the API, registry reads), as one client sends them. */
const limitedCases: fc.Arbitrary<PathCase> = fc
  .record({
    route: fc.constantFrom('/', '/models', '/api/models', '/v2/models/mnist', '/page/clear', '/page/predict', '/api/predict', '/v2/models/mnist/infer'),
    query: fc.constantFrom('', '?x=1', '?%00'),
    json: fc.boolean(),
    body: fc.oneof(fc.constant('{}'), rawBody),
  })
  .map(({ route, query, json, body }) => {
    const post = route.startsWith('/page/') || route.endsWith('predict') || route.endsWith('infer');
    return printable({ method: post ? 'POST' : 'GET', path: `${route}${query}`, headers: json ? { 'content-type': 'application/json' } : {}, ...(post ? { body } : {}) }, describeRequest);
  });

test(`${LIMITED_CASES} fuzzed requests against the default rate limits: the same rules, and the 429s well formed`, async () => {
  await fuzzRoutes({ baseUrl: limited.url, cases: limitedCases, seed: SEED + 2, count: LIMITED_CASES, tally, family: () => 'rate limited', judge, batch: LIMITED_BATCH });
  expect(tally.count('rate limited', '429 rate_limited')).toBeGreaterThan(0);
  expect(tally.count('rate limited', '200')).toBeGreaterThan(0);
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
}, 60_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectAlive(limited.url);
  await expectSettledMemory(rssBefore);
}, 30_000);
