// Property-based fuzzing of the pixel form of POST /api/predict (784 values in 0..1) with fast-check:
// images with one value off, wrong lengths, wrong types, raw JSON no serializer writes, random bytes, and
// the headers around them (content type, same-origin, Idempotency-Key). An independent check of the
// contract, written here, says which cases must get a 200 with ten probabilities; every other case must
// get a short JSON 4xx, none a 5xx, and the process must answer and hold no more memory afterwards.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { byteLength, describeRequest, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, KEPT_PER_IMAGE, MODEL_ON_THIS_THREAD, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, cookieHeader, idempotencyKey, junkValue, parseBody, postHeaders, rarely, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';

const SEED = 1_705_001;
const CASES = 2_400;
const PIXELS = 784;
/** /api/predict takes 512 KiB at most (page-routes.ts). */
const BODY_LIMIT = 512 * 1024;

interface PixelCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
  readonly keyValid: boolean;
}

const pixel = fc.oneof(
  { weight: 10, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) },
  { weight: 1, arbitrary: fc.constantFrom(0, 1, -0, 5e-324, 1 - 2 ** -53) },
);
const notPixel = fc.oneof(fc.constantFrom(-5e-324, 1 + 2 ** -52, -1, 2, 255, 1e308, -1e308), wrongValue);

const pixels: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({ fill: pixel, at: fc.nat(PIXELS - 1), value: rarely(fc.oneof(pixel, notPixel), 2) }).map(({ fill, at, value }) => {
      const image: unknown[] = new Array(PIXELS).fill(fill);
      if (value !== undefined) image[at] = value;
      return image;
    }),
  },
  { weight: 1, arbitrary: fc.array(pixel, { minLength: PIXELS, maxLength: PIXELS }) },
  {
    weight: 2,
    arbitrary: fc.record({ n: fc.oneof(fc.nat(2_000), fc.constantFrom(0, 1, 783, 785, 1_568, 60_000)), fill: pixel }).map(({ n, fill }) => new Array(n).fill(fill)),
  },
  { weight: 1, arbitrary: fc.constant(null).map(() => Array.from({ length: 28 }, () => new Array(28).fill(0.5))) },
  { weight: 2, arbitrary: wrongValue },
);

const body: fc.Arbitrary<Body> = fc.oneof(
  { weight: 12, arbitrary: pixels.map((p) => toJsonText({ pixels: p })) },
  { weight: 1, arbitrary: fc.tuple(pixels, junkValue).map(([p, drawing]) => toJsonText({ pixels: p, drawing })) },
  { weight: 1, arbitrary: fc.tuple(pixels, fc.string({ maxLength: 12 }), junkValue).map(([p, key, value]) => toJsonText({ pixels: p, [key]: value })) },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 2, arbitrary: rawBody },
);

let stratus: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();

function cases(origin: string): fc.Arbitrary<PixelCase> {
  return fc
    .record({ body, contentType, site: siteHeaders(origin), key: idempotencyKey, cookie: cookieHeader })
    .map(({ body, contentType, site, key, cookie }) =>
      printable(
        { method: 'POST', path: '/api/predict', headers: postHeaders({ contentType, site, idempotencyKey: key.value, cookie }), body, contentType, site, keyValid: key.valid },
        describeRequest,
      ),
    );
}

/** The contract, judged without the server's code: a same-origin JSON body of at most 512 KiB that is
 * {"pixels": [784 numbers in 0..1]} and nothing else, and a valid Idempotency-Key if one is sent. */
function takes(request: PixelCase): boolean {
  if (request.site.crossSite || !request.contentType.json || !request.keyValid) return false;
  if (byteLength(request.body) > BODY_LIMIT) return false;
  const parsed = parseBody(request.body);
  if (!parsed.ok || !isPlainObject(parsed.value) || Object.keys(parsed.value).join() !== 'pixels') return false;
  const image = parsed.value.pixels;
  return Array.isArray(image) && image.length === PIXELS && image.every((v) => typeof v === 'number' && v >= 0 && v <= 1);
}

function judge(request: PixelCase, answer: Answer): void {
  const ok = takes(request);
  expectVerdict(request, answer, ok);
  if (!ok || answer.status !== 200) return;
  const result = JSON.parse(answer.text) as { id: unknown; digit: unknown; probabilities: unknown; model: { version: unknown } };
  const probabilities = result.probabilities as number[];
  const wellFormed =
    typeof result.id === 'string' && Number.isInteger(result.digit) && (result.digit as number) >= 0 && (result.digit as number) <= 9 &&
    Array.isArray(probabilities) && probabilities.length === 10 && probabilities.every((p) => p >= 0 && p <= 1) &&
    Math.abs(probabilities.reduce((a, b) => a + b, 0) - 1) < 1e-3 && typeof result.model?.version === 'string';
  if (!wellFormed) throw new Error(`a malformed 200 ${answer.text.slice(0, 200)} for ${describeRequest(request)}`);
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS, ...MODEL_ON_THIS_THREAD]);
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED + 1, count: 48, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${CASES} fuzzed pixel bodies and headers: a 200 for each valid image, a short JSON 4xx for the rest, never a 5xx`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED, count: CASES, tally, family: () => 'pixels', judge });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  // Each check the route makes was reached by some case, and some images were classified.
  expect(tally.count('pixels', '200')).toBeGreaterThan(50);
  expectEveryOutcome(tally, 'pixels', ['422 invalid_body', '400 malformed_json', '415 unsupported_media_type', '403 cross_site', '413 body_too_large', '400 invalid_idempotency_key']);
}, 120_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  // Each image classified is stored, one per 200.
  await expectSettledMemory(rssBefore, tally.count('pixels', '200') * KEPT_PER_IMAGE);
}, 30_000);
