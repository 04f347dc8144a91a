// Property-based fuzzing of the drawn form of POST /api/predict (pen strokes in, the number read out) with
// fast-check: drawings with sides, strokes, points or coordinates out of bounds or of the wrong type, at
// and past the 64-stroke and 8,192-point limits, both forms at once, extra fields, raw bytes. An independent
// check of the drawing contract, written here, says which must be read (a 200 naming each digit, or a 422
// "no ink" for a drawing that segments into nothing); every other case must get a short JSON 4xx, none a
// 5xx, and the process must answer and hold no more memory afterwards.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { byteLength, describeRequest, errorCode, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, KEPT_PER_IMAGE, MODEL_ON_THIS_THREAD, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, cookieHeader, drawing, idempotencyKey, isDrawing, junkValue, parseBody, postHeaders, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';

const SEED = 1_705_003;
const CASES = 2_400;
/** /api/predict takes 512 KiB at most (page-routes.ts). */
const BODY_LIMIT = 512 * 1024;

interface DrawnCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
  readonly keyValid: boolean;
}

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 14, arbitrary: drawing.map((d) => toJsonText({ drawing: d })) },
  { weight: 1, arbitrary: fc.tuple(drawing, junkValue).map(([d, pixels]) => toJsonText({ drawing: d, pixels })) },
  { weight: 1, arbitrary: fc.tuple(drawing, fc.string({ maxLength: 12 }), junkValue).map(([d, key, value]) => toJsonText({ drawing: d, [key]: value })) },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 1, arbitrary: rawBody },
);

/** The contract, judged without the server's code: a same-origin JSON body of at most 512 KiB that is
 * {"drawing": <a drawing>} and nothing else, and a valid Idempotency-Key if one is sent. */
function takes(request: DrawnCase): boolean {
  if (request.site.crossSite || !request.contentType.json || !request.keyValid) return false;
  if (byteLength(request.body) > BODY_LIMIT) return false;
  const parsed = parseBody(request.body);
  return parsed.ok && isPlainObject(parsed.value) && Object.keys(parsed.value).join() === 'drawing' && isDrawing(parsed.value.drawing);
}

/** A drawing can be valid and still hold no digit: strokes that segmentation drops. */
const noInk = (answer: Answer) => answer.status === 422 && errorCode(answer) === 'invalid_drawing' && answer.text.includes('no ink');

function judge(request: DrawnCase, answer: Answer): void {
  const ok = takes(request);
  expectVerdict(request, answer, ok, (a) => ok && noInk(a));
  if (!ok || answer.status !== 200) return;
  const result = JSON.parse(answer.text) as { number: unknown; digits: { digit: number; probabilities: number[] }[]; digit: unknown; probabilities: unknown };
  const digits = result.digits;
  const wellFormed =
    Array.isArray(digits) && digits.length > 0 &&
    digits.every((d) => Number.isInteger(d.digit) && d.digit >= 0 && d.digit <= 9 && d.probabilities.length === 10 && Math.abs(d.probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3) &&
    result.number === digits.map((d) => d.digit).join('') && result.digit === digits[0]?.digit;
  if (!wellFormed) throw new Error(`a malformed 200 ${answer.text.slice(0, 200)} for ${describeRequest(request)}`);
  imagesStored += digits.length;
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();
/** Digits classified, each of which the store keeps. */
let imagesStored = 0;

function cases(origin: string): fc.Arbitrary<DrawnCase> {
  return fc
    .record({ body, contentType, site: siteHeaders(origin), key: idempotencyKey, cookie: cookieHeader })
    .map(({ body, contentType, site, key, cookie }) =>
      printable(
        { method: 'POST', path: '/api/predict', headers: postHeaders({ contentType, site, idempotencyKey: key.value, cookie }), body, contentType, site, keyValid: key.valid },
        describeRequest,
      ),
    );
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS, ...MODEL_ON_THIS_THREAD]);
  // A few batches first, with another seed: the first requests grow caches, JIT code and the drawing
  // threads, which stay.
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED + 1, count: 96, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${CASES} fuzzed drawings and headers: each valid drawing read (or "no ink"), a short JSON 4xx for the rest, never a 5xx`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED, count: CASES, tally, family: () => 'drawn', judge });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  expect(tally.count('drawn', '200')).toBeGreaterThan(50);
  expectEveryOutcome(tally, 'drawn', ['422 invalid_drawing', '422 invalid_body', '400 malformed_json', '415 unsupported_media_type', '403 cross_site', '400 invalid_idempotency_key']);
}, 120_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectSettledMemory(rssBefore, imagesStored * KEPT_PER_IMAGE);
}, 30_000);
