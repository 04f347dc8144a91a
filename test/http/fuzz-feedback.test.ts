// Property-based fuzzing of the page's feedback, POST /page/feedback, with fast-check. One real prediction
// (two digits) is made first, so that cases can name a held request: its id or another, from its session
// or another, with digit positions and labels in and out of range, as strings (what htmx sends) or as
// anything else, and as JSON or as a form. An independent check, written here, says which must be
// recorded (HTML, 200); every other case must get a short JSON 4xx (410 for a prediction this session does
// not hold), none a 5xx, even when a dozen label the same digit at once; the process must answer and hold
// no more memory afterwards.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { BATCH, byteLength, describeRequest, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, MODEL_ON_THIS_THREAD, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, parseBody, postHeaders, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';

const SEED = 1_705_005;
const CASES = 2_400;
const BURSTS = 25;
const BODY_LIMIT = 512 * 1024;

interface FeedbackCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
  /** Whether the Cookie header names the session the prediction was made in. */
  readonly owner: boolean;
}

/** The prediction the cases give feedback on, made in beforeAll. */
interface Held {
  readonly session: string;
  readonly requestId: string;
  readonly digits: number;
}

const idLike = fc.stringMatching(/^[A-Za-z0-9-]{8,64}$/);

function feedbackCases(held: Held, origin: string): fc.Arbitrary<FeedbackCase> {
  const request = fc.oneof(
    { weight: 10, arbitrary: fc.constant<unknown>(held.requestId) },
    { weight: 2, arbitrary: idLike },
    { weight: 1, arbitrary: fc.constantFrom<unknown>(held.requestId.toUpperCase(), `${held.requestId} `, held.requestId.slice(0, 7), `${held.requestId}\n`, 'a'.repeat(65), '') },
    { weight: 1, arbitrary: wrongValue },
  );
  const index = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: held.digits - 1 }).map(String) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>(String(held.digits), '99', '00', '01', '-1', '1.0', ' 0', '0 ', '', '100', '٠') },
    { weight: 1, arbitrary: fc.oneof(fc.constant<unknown>(0), wrongValue) },
  );
  const label = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0, max: 9 }).map(String) },
    { weight: 2, arbitrary: fc.constantFrom<unknown>('10', '-1', '', ' 1', '1 ', 'a', '١', '0x1', '1e0') },
    { weight: 1, arbitrary: fc.oneof(fc.constant<unknown>(3), wrongValue) },
  );
  const fields = fc
    .record({ request, index, label, extra: fc.oneof({ weight: 12, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.tuple(fc.constantFrom('session', 'pixels', 'x', '__proto__'), wrongValue) }) }, { requiredKeys: ['extra'] })
    .map(({ extra, ...values }) => {
      if (extra) Object.defineProperty(values, extra[0], { value: extra[1], enumerable: true });
      return values;
    });
  const body: fc.Arbitrary<Body> = fc.oneof(
    { weight: 14, arbitrary: fields.map((f) => toJsonText(f)) },
    // What htmx sends without the page's JSON encoding: refused (415 as a form, 400 as "JSON").
    { weight: 1, arbitrary: fields.map((f) => new URLSearchParams(Object.entries(f).map(([k, v]) => [k, String(v)])).toString()) },
    { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
    { weight: 1, arbitrary: rawBody },
  );
  const cookie = fc.oneof(
    { weight: 10, arbitrary: fc.constant({ header: `stratus_session=${held.session}` as string | undefined, owner: true }) },
    { weight: 1, arbitrary: fc.constant({ header: `theme=dark; stratus_session=${held.session}` as string | undefined, owner: true }) },
    { weight: 2, arbitrary: idLike.map((id) => ({ header: `stratus_session=${id}` as string | undefined, owner: false })) },
    { weight: 1, arbitrary: fc.constantFrom<string | undefined>(undefined, `stratus_session=${held.session.slice(1)}`, `session=${held.session}`).map((header) => ({ header, owner: false })) },
  );
  return fc
    .record({ body, contentType, site: siteHeaders(origin), cookie })
    .map(({ body, contentType, site, cookie }) =>
      printable({ method: 'POST', path: '/page/feedback', headers: postHeaders({ contentType, site, cookie: cookie.header }), body, contentType, site, owner: cookie.owner }, describeRequest),
    );
}

/** The contract, judged without the server's code: same-origin JSON of exactly {request, index, label},
 * strings as htmx sends them (an id, a position of one or two digits, a one-digit label), naming a
 * prediction held for this session and one of its digits. */
function takes(held: Held, request: FeedbackCase): boolean {
  if (request.site.crossSite || !request.contentType.json || byteLength(request.body) > BODY_LIMIT) return false;
  const parsed = parseBody(request.body);
  if (!parsed.ok || !isPlainObject(parsed.value) || Object.keys(parsed.value).sort().join() !== 'index,label,request') return false;
  const { request: id, index, label } = parsed.value;
  if (typeof id !== 'string' || typeof index !== 'string' || typeof label !== 'string') return false;
  if (!/^[A-Za-z0-9-]{8,64}$/.test(id) || !/^[0-9]{1,2}$/.test(index) || !/^[0-9]$/.test(label)) return false;
  return request.owner && id === held.requestId && Number(index) < held.digits;
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
let held: Held;
let rssBefore = 0;
const tally = new Tally();

/** A two-digit number drawn on the page: two upright strokes far apart, read as two digits. */
async function predictOnPage(url: string): Promise<Held> {
  const home = await fetch(`${url}/`);
  const session = /^stratus_session=([^;]+)/.exec(home.headers.get('set-cookie') ?? '')?.[1] as string;
  const upright = (x: number) => Array.from({ length: 29 }, (_, i) => ({ x, y: 30 + (140 * i) / 28 }));
  const response = await fetch(`${url}/page/predict`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: `stratus_session=${session}` },
    body: JSON.stringify({ drawing: { width: 500, height: 200, strokes: [upright(100), upright(350)] } }),
  });
  expect(response.status).toBe(200);
  // The feedback buttons carry {"request", "index", "label"} as HTML-escaped JSON in hx-vals.
  const vals = [...(await response.text()).matchAll(/hx-vals="([^"]*)"/g)].map((m) => JSON.parse((m[1] as string).replaceAll('&quot;', '"')) as { request: string; index: string });
  expect(vals.length).toBeGreaterThan(0);
  return { session, requestId: (vals[0] as { request: string }).request, digits: new Set(vals.map((v) => v.index)).size };
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS, ...MODEL_ON_THIS_THREAD]);
  held = await predictOnPage(stratus.url);
  expect(held.digits).toBe(2);
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  await fuzzRoutes({ baseUrl: stratus.url, cases: feedbackCases(held, stratus.url), seed: SEED + 1, count: 48, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${CASES} fuzzed feedback requests: recorded when they name a held digit of this session, a short JSON 4xx otherwise`, async () => {
  const judge = (request: FeedbackCase, answer: Answer) => {
    expectVerdict(request, answer, takes(held, request));
    if (answer.status < 300 && !(answer.headers.get('content-type') ?? '').startsWith('text/html')) throw new Error(`a 2xx that is no HTML for ${describeRequest(request)}`);
  };
  await fuzzRoutes({ baseUrl: stratus.url, cases: feedbackCases(held, stratus.url), seed: SEED, count: CASES, tally, family: () => 'feedback', judge });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  expect(tally.count('feedback', '200')).toBeGreaterThan(100);
  expectEveryOutcome(tally, 'feedback', ['410 feedback_closed', '422 invalid_body', '400 malformed_json', '415 unsupported_media_type', '403 cross_site']);
}, 60_000);

test(`${BURSTS} bursts of ${BATCH} labels for the same digit at once: each recorded, none a 5xx`, async () => {
  // Every case of a burst writes the same feedback document: the store must absorb the conflicts.
  const labels = fc.integer({ min: 0, max: 9 }).map((label) =>
    printable(
      { method: 'POST', path: '/page/feedback', headers: { 'content-type': 'application/json', cookie: `stratus_session=${held.session}` }, body: JSON.stringify({ request: held.requestId, index: '0', label: String(label) }) },
      describeRequest,
    ),
  );
  await fuzzRoutes({ baseUrl: stratus.url, cases: labels, seed: SEED + 2, count: BURSTS * BATCH, tally, family: () => 'same digit', judge: (request, answer) => expectVerdict(request, answer, true) });
  expect(tally.count('same digit')).toBeGreaterThanOrEqual(BURSTS * BATCH);
  expect(tally.count('same digit', '200')).toBe(tally.count('same digit'));
}, 60_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectSettledMemory(rssBefore);
}, 30_000);
