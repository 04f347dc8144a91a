// Property-based fuzzing of the drawing page's routes with fast-check: GET / under any cookie, query and
// header, and the htmx endpoints POST /page/predict (drawings, right and wrong) and POST /page/clear (any
// body), with the content types, same-origin headers and form bodies a browser or a forger might send.
// An independent check, written here, says which requests must get the page or its fragment (HTML, 200);
// every other one must get a short JSON 4xx, none a 5xx, and the process must answer and hold no more
// memory afterwards. Feedback, which needs a held prediction, is fuzzed in fuzz-feedback.test.ts.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { issuedSessions } from '../helpers/sessions.ts';
import { byteLength, describeRequest, errorCode, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, MODEL_ON_THIS_THREAD, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, drawing, isDrawing, junkValue, parseBody, postHeaders, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';

const SEED = 1_705_004;
const HOME_CASES = 600;
const PREDICT_CASES = 1_200;
const CLEAR_CASES = 600;
/** The page's endpoints take 512 KiB at most (page-routes.ts). */
const BODY_LIMIT = 512 * 1024;
/** What the server issues: a UUID and its HMAC, base64url. */
const SESSION = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.[A-Za-z0-9_-]{43}$/;
/** Sessions the server issued, as Cookie values (filled before the first case is drawn). */
let issued: string[] = [];
/**
 * What each page prediction leaves by design: its result in the in-memory store, with its images (kept for
 * feedback) and its history entry. Measured ~11 KB of heap per two-digit prediction (bun:jsc heapStats
 * over 1,200) when the images were held in the gateway's memory instead, two to three times that in RSS;
 * allowed generously, as drawings here can hold up to six digits.
 */
const KEPT_PER_PREDICTION = 64 * 1024;

interface HomeCase extends FuzzRequest {
  /** Whether the Cookie header carries a well-formed session, so that no new one is set. */
  readonly hasSession: boolean;
  readonly https: boolean;
}

interface PostCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
}

const ISSUED = 4;
const issuedCookie = fc.nat({ max: ISSUED - 1 }).map((i) => issued[i] as string);

/** A Cookie header and whether it holds a session the server issued, as one of its `;`-separated parts.
 * Ids of the issued form that the server did not sign are no session (fixation, made-up clients). */
const cookie: fc.Arbitrary<{ header: string | undefined; hasSession: boolean }> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ header: undefined, hasSession: false }) },
  { weight: 3, arbitrary: issuedCookie.map((header) => ({ header, hasSession: true })) },
  { weight: 1, arbitrary: fc.tuple(issuedCookie, fc.stringMatching(/^[a-z]{1,8}=[a-z0-9]{0,8}$/)).map(([own, other]) => ({ header: `${other}; ${own}`, hasSession: true })) },
  { weight: 2, arbitrary: fc.stringMatching(SESSION).map((made) => ({ header: `stratus_session=${made}`, hasSession: false })) },
  { weight: 1, arbitrary: fc.uuid().map((id) => ({ header: `stratus_session=${id}`, hasSession: false })) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('stratus_session=', 'stratus_session=short', `stratus_session=${'a'.repeat(65)}`, 'stratus_session=a_b_c_d_e_f', 'stratus_session=../../../etc', 'Stratus_Session=abcdefgh1', 'xstratus_session=abcdefgh1', '; ;=;', '=')
      .map((header) => ({ header, hasSession: false })),
  },
  { weight: 1, arbitrary: fc.stringMatching(/^[a-z_]{0,12}=[!#-+\--:<-~]{0,40}$/).filter((h) => !h.startsWith('stratus_session=')).map((header) => ({ header, hasSession: false })) },
);

const query = fc.oneof(
  { weight: 3, arbitrary: fc.constant('') },
  { weight: 1, arbitrary: fc.webQueryParameters().map((q) => `?${q}`) },
  { weight: 1, arbitrary: fc.constantFrom('?', '?%00', '?a=%ff%fe', '?__proto__[x]=1', `?q=${'x'.repeat(4000)}`, '?a=1&a=2&&', '?%', '?<script>alert(1)</script>') },
);

const homeCases: fc.Arbitrary<HomeCase> = fc
  .record({
    cookie,
    query,
    forwardedProto: fc.constantFrom(undefined, 'https', 'http', 'HTTPS', 'https, http', ''),
    accept: fc.constantFrom(undefined, 'text/html', 'application/json', '*/*', '', 'text/html;q=0.1, application/xhtml+xml'),
    htmx: fc.boolean(),
  })
  .map(({ cookie, query, forwardedProto, accept, htmx }) =>
    printable(
      {
        method: 'GET',
        path: `/${query}`,
        headers: {
          ...(cookie.header === undefined ? {} : { cookie: cookie.header }),
          ...(forwardedProto === undefined ? {} : { 'x-forwarded-proto': forwardedProto }),
          ...(accept === undefined ? {} : { accept }),
          ...(htmx ? { 'hx-request': 'true', 'hx-current-url': 'http://evil.example/' } : {}),
        },
        hasSession: cookie.hasSession,
        https: forwardedProto === 'https',
      },
      describeRequest,
    ),
  );

function judgeHome(request: HomeCase, answer: Answer): void {
  if (answer.status === 429) return;
  const setCookie = answer.headers.get('set-cookie');
  const fine =
    answer.status === 200 && (answer.headers.get('content-type') ?? '').startsWith('text/html') && answer.text.startsWith('<!doctype html>') &&
    (request.hasSession ? setCookie === null : setCookie !== null && SESSION.test(/^stratus_session=([^;]*)/.exec(setCookie)?.[1] ?? '') && setCookie.includes('; Secure') === request.https);
  if (!fine) throw new Error(`the page not served right (${answer.status}, set-cookie ${setCookie}) for ${describeRequest(request)}`);
}

/** htmx's parameters sent as a form, which the page never does (it sends JSON): refused either way. */
const formBody = fc.webQueryParameters();

function postCases(path: string, origin: string, body: fc.Arbitrary<Body>): fc.Arbitrary<PostCase> {
  return fc
    .record({ body, contentType, site: siteHeaders(origin), cookie, htmx: fc.boolean() })
    .map(({ body, contentType, site, cookie, htmx }) =>
      printable(
        {
          method: 'POST',
          path,
          headers: { ...postHeaders({ contentType, site, cookie: cookie.header }), ...(htmx ? { 'hx-request': 'true', 'hx-target': 'result' } : {}) },
          body,
          contentType,
          site,
        },
        describeRequest,
      ),
    );
}

const predictBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 14, arbitrary: drawing.map((d) => toJsonText({ drawing: d })) },
  { weight: 1, arbitrary: fc.tuple(drawing, fc.string({ maxLength: 12 }), junkValue).map(([d, key, value]) => toJsonText({ drawing: d, [key]: value })) },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 1, arbitrary: formBody },
  { weight: 1, arbitrary: rawBody },
);

/** Clear takes any JSON at all: it reads no field. */
const clearBody: fc.Arbitrary<Body> = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue().map((value) => JSON.stringify(value)) },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 1, arbitrary: formBody },
  { weight: 2, arbitrary: rawBody },
);

/** What every page POST needs first: same-origin, JSON, at most 512 KiB, and a body that parses. */
function parsedPageBody(request: PostCase): { ok: true; value: unknown } | { ok: false } {
  if (request.site.crossSite || !request.contentType.json || byteLength(request.body) > BODY_LIMIT) return { ok: false };
  return parseBody(request.body);
}

const htmlFragment = (answer: Answer) => answer.status === 200 && (answer.headers.get('content-type') ?? '').startsWith('text/html') && answer.text.length > 0;

function judgePredict(request: PostCase, answer: Answer): void {
  const parsed = parsedPageBody(request);
  const ok = parsed.ok && isPlainObject(parsed.value) && Object.keys(parsed.value).join() === 'drawing' && isDrawing(parsed.value.drawing);
  const noInk = (a: Answer) => ok && a.status === 422 && errorCode(a) === 'invalid_drawing' && a.text.includes('no ink');
  expectVerdict(request, answer, ok, noInk);
  if (answer.status < 300 && !htmlFragment(answer)) throw new Error(`a 2xx that is no HTML fragment for ${describeRequest(request)}`);
}

function judgeClear(request: PostCase, answer: Answer): void {
  expectVerdict(request, answer, parsedPageBody(request).ok);
  if (answer.status < 300 && !htmlFragment(answer)) throw new Error(`a 2xx that is no HTML fragment for ${describeRequest(request)}`);
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS, ...MODEL_ON_THIS_THREAD]);
  issued = await issuedSessions(stratus.url, ISSUED);
  // A few batches first, with another seed: the first requests grow caches, JIT code and the drawing
  // threads, which stay.
  const warm = { baseUrl: stratus.url, tally: new Tally(), family: () => 'warm-up', count: 48 };
  await fuzzRoutes({ ...warm, cases: homeCases, seed: SEED + 1 });
  await fuzzRoutes({ ...warm, cases: postCases('/page/predict', stratus.url, predictBody), seed: SEED + 1 });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${HOME_CASES} fuzzed GET / (cookies, queries, headers): always the page, with a new session exactly when none was sent`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: homeCases, seed: SEED, count: HOME_CASES, tally, family: () => 'home', judge: judgeHome });
  expect(tally.count('home', '200')).toBeGreaterThan(HOME_CASES / 2);
}, 60_000);

test(`${PREDICT_CASES} fuzzed POST /page/predict: each valid drawing answered with HTML (or "no ink"), a short JSON 4xx for the rest`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: postCases('/page/predict', stratus.url, predictBody), seed: SEED, count: PREDICT_CASES, tally, family: () => 'predict', judge: judgePredict });
  expect(tally.count('predict', '200')).toBeGreaterThan(50);
  expectEveryOutcome(tally, 'predict', ['422 invalid_drawing', '422 invalid_body', '400 malformed_json', '415 unsupported_media_type', '403 cross_site']);
}, 60_000);

test(`${CLEAR_CASES} fuzzed POST /page/clear: any JSON body clears, anything else is a short JSON 4xx`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: postCases('/page/clear', stratus.url, clearBody), seed: SEED, count: CLEAR_CASES, tally, family: () => 'clear', judge: judgeClear });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  expect(tally.count('clear', '200')).toBeGreaterThan(50);
  expectEveryOutcome(tally, 'clear', ['400 malformed_json', '415 unsupported_media_type', '403 cross_site']);
}, 60_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectSettledMemory(rssBefore, tally.count('predict', '200') * KEPT_PER_PREDICTION);
}, 30_000);
