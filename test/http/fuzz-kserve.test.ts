// Property-based fuzzing of KServe inference, POST /v2/models/mnist/infer, with fast-check: tensors whose
// shape, datatype, data length or values are off (batches up to and past 1,024 images, megabytes of data),
// the protocol's optional parameters and requested outputs (binary data, shared memory and unknown outputs
// among them), extra fields, wrong types and raw bytes. An independent check of the protocol's contract, written here,
// says which requests must get a 200 with one answer per image; every other one must get a short JSON 4xx,
// none a 5xx, and the process must answer and hold no more memory afterwards.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import fc from 'fast-check';
import { startLocal } from '../helpers/local-stratus.ts';
import { byteLength, describeRequest, expectEveryOutcome, expectVerdict, fuzzRoutes, isPlainObject, NO_RATE_LIMITS, printable, Tally, type Answer, type Body, type FuzzRequest } from '../helpers/fuzz-http.ts';
import { expectAlive, expectSettledMemory, KEPT_PER_IMAGE, MODEL_ON_THIS_THREAD, settledRss } from '../helpers/fuzz-memory.ts';
import { contentType, idempotencyKey, junkValue, parseBody, postHeaders, rarely, rawBody, siteHeaders, toJsonText, wrongValue, type ContentType, type SiteHeaders } from '../helpers/fuzz-values.ts';

const SEED = 1_705_002;
const CASES = 2_400;
const PIXELS = 784;
const MAX_BATCH = 1024;
/** The KServe route takes --max-body-bytes, 16 MiB by default. */
const BODY_LIMIT = 16 * 1024 * 1024;

interface InferCase extends FuzzRequest {
  readonly contentType: ContentType;
  readonly site: SiteHeaders;
  readonly keyValid: boolean;
}

const pixel = fc.oneof({ weight: 8, arbitrary: fc.double({ min: 0, max: 1, noNaN: true }) }, { weight: 1, arbitrary: fc.constantFrom(0, 1) });

/** Mostly small batches (each valid one is classified), now and then the largest and just past it. */
const batchSize = fc.oneof(
  { weight: 300, arbitrary: fc.integer({ min: 1, max: 4 }) },
  { weight: 25, arbitrary: fc.integer({ min: 5, max: 64 }) },
  { weight: 20, arbitrary: fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e300) },
  // A 1,024-image batch takes ~0.3 s to classify: a handful are enough.
  { weight: 1, arbitrary: fc.constantFrom(MAX_BATCH, MAX_BATCH + 1) },
);

/** data for `n` images: the right length or one off, all one value with perhaps one value wrong. */
const tensor: fc.Arbitrary<{ shape: unknown; data: unknown }> = fc
  .record({
    n: batchSize,
    width: fc.oneof({ weight: 12, arbitrary: fc.constant(PIXELS) }, { weight: 1, arbitrary: fc.constantFrom(0, 1, 28, 783, 785, -PIXELS, 1.5) }),
    lengthOff: fc.oneof({ weight: 10, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.constantFrom(-1, 1, -PIXELS, PIXELS) }),
    fill: pixel,
    at: fc.nat(),
    odd: rarely(fc.oneof(fc.constantFrom(-1e-9, 1.000001, 2, -1, 1e308), wrongValue), 4),
    shapeJunk: rarely(fc.oneof(fc.constantFrom<unknown>([], [1], [1, PIXELS, 1], [1.5, PIXELS], ['1', PIXELS], [1, ' 784 '], ['0x1', PIXELS], [null, PIXELS], [-0, PIXELS]), wrongValue), 10),
  })
  .map(({ n, width, lengthOff, fill, at, odd, shapeJunk }) => {
    // Past 1,024 images the data would be megabytes for nothing: the shape alone is refused.
    const images = Number.isSafeInteger(n) && n > 0 && n <= MAX_BATCH + 1 ? n : 1;
    const length = Math.max(0, images * PIXELS + lengthOff);
    // Odd values (subnormals, 17 digits) in small batches; short ones in larger batches, which are then
    // 3 MB of JSON at 1,024 images, not 18 (client and server share one event loop, which parsing blocks).
    const data: unknown[] = new Array(length).fill(images > 8 ? 0.5 : fill);
    if (odd !== undefined && length > 0) data[at % length] = odd;
    return { shape: shapeJunk ?? [n, width], data };
  });

/** The protocol's parameters: what Triton's client sends, what Stratus refuses, and junk. */
const parameters: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom<unknown>({}, { binary_data: false }, { priority: 1, timeout: 500, sequence_id: 'a' }, { custom: true }) },
  { weight: 3, arbitrary: fc.constantFrom<unknown>({ binary_data: true }, { binary_data_size: 3136 }, { binary_data_output: true }, { shared_memory_region: 'r' }, { classification: 2 }) },
  { weight: 2, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.string({ maxLength: 8 }), fc.double(), fc.boolean()), { maxKeys: 3 }) },
  { weight: 2, arbitrary: junkValue },
);

const outputs: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.array(
      fc.record({ name: fc.constantFrom('probabilities', 'digit', 'digit', 'logits', ''), parameters: rarely(parameters, 2) }, { requiredKeys: ['name'] }),
      { maxLength: 3 },
    ),
  },
  { weight: 1, arbitrary: junkValue },
);

const input: fc.Arbitrary<unknown> = fc.oneof(
  {
    weight: 16,
    arbitrary: fc
      .record({
        name: fc.oneof({ weight: 8, arbitrary: fc.string({ maxLength: 20 }) }, { weight: 1, arbitrary: fc.string({ minLength: 120, maxLength: 140 }) }, { weight: 1, arbitrary: junkValue }),
        datatype: fc.oneof({ weight: 12, arbitrary: fc.constant('FP32') }, { weight: 2, arbitrary: fc.constantFrom('FP16', 'FP64', 'fp32', 'INT64', 'BYTES', 'FP32 ', '') }, { weight: 1, arbitrary: junkValue }),
        tensor,
        extra: rarely(fc.oneof(fc.tuple(fc.constant('parameters'), parameters), fc.tuple(fc.constantFrom('parameters', 'id', 'x', '__proto__'), junkValue)), 8),
        missing: rarely(fc.constantFrom('name', 'shape', 'datatype', 'data'), 12),
      })
      .map(({ name, datatype, tensor, extra, missing }) => {
        const value: Record<string, unknown> = { name, shape: tensor.shape, datatype, data: tensor.data };
        if (extra) Object.defineProperty(value, extra[0], { value: extra[1], enumerable: true });
        if (missing) delete value[missing];
        return value;
      }),
  },
  { weight: 1, arbitrary: wrongValue },
);

const body: fc.Arbitrary<Body> = fc.oneof(
  {
    weight: 14,
    arbitrary: fc
      .record({
        id: rarely(fc.oneof(fc.string({ maxLength: 40 }), fc.string({ minLength: 120, maxLength: 140 }), junkValue), 3),
        inputs: fc.oneof({ weight: 12, arbitrary: input.map((i) => [i]) }, { weight: 1, arbitrary: fc.array(input, { maxLength: 3 }) }, { weight: 1, arbitrary: wrongValue }),
        parameters: rarely(parameters, 8),
        outputs: rarely(outputs, 6),
      })
      .map(({ id, parameters, inputs, outputs }) =>
        toJsonText({ ...(id === undefined ? {} : { id }), ...(parameters === undefined ? {} : { parameters }), inputs, ...(outputs === undefined ? {} : { outputs }) }),
      ),
  },
  { weight: 1, arbitrary: wrongValue.map((value) => toJsonText(value)) },
  { weight: 2, arbitrary: rawBody },
);

const isPixel = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;
const OUTPUTS = ['probabilities', 'digit'];

/** The protocol's parameters as Stratus serves them: a map of strings, numbers and booleans that asks for
 * no binary data (binary_data_output on the request; binary_data or binary_data_size on a tensor), and on a
 * tensor for no shared memory or classification. */
function servableParameters(value: unknown, where: 'request' | 'tensor'): boolean {
  if (value === undefined) return true;
  if (!isPlainObject(value)) return false;
  return Object.entries(value).every(([key, v]) => {
    if (!['string', 'number', 'boolean'].includes(typeof v)) return false;
    if (where === 'request') return !(key === 'binary_data_output' && v === true);
    if (key === 'binary_data_size' || key === 'classification' || key.startsWith('shared_memory_')) return false;
    return !(key === 'binary_data' && v === true);
  });
}

/** The outputs a request asks for, each once in its order; null when it asks for one there is not. */
function askedOutputs(outputs: unknown): string[] | null {
  if (outputs === undefined) return OUTPUTS;
  if (!Array.isArray(outputs) || outputs.length < 1 || outputs.length > 16) return null;
  for (const output of outputs) {
    if (!isPlainObject(output) || Object.keys(output).some((key) => key !== 'name' && key !== 'parameters')) return null;
    if (typeof output.name !== 'string' || !OUTPUTS.includes(output.name) || !servableParameters(output.parameters, 'tensor')) return null;
  }
  return [...new Set(outputs.map((output) => (output as { name: string }).name))];
}

/** The contract, judged without the server's code: {"inputs": [one {name, shape: [N, 784], datatype:
 * "FP32", data: N×784 values in 0..1, parameters?}]} with N in 1..1024, an optional id of at most 128
 * characters, optional parameters (servableParameters) and optional outputs, 1 to 16 of {name, parameters?}
 * naming the model's outputs.
 * A shape with numeric strings ("1", " 784 ", "0x1") may go either way: Elysia coerces them to integers
 * although the schema (and /docs) says integers; reported, not pinned. */
function takes(request: InferCase): boolean | 'either' {
  // No Content-Type at all reads as JSON here: Triton's client sends none.
  const json = request.contentType.json || request.contentType.value === undefined;
  if (request.site.crossSite || !json || !request.keyValid) return false;
  if (byteLength(request.body) > BODY_LIMIT) return false;
  const parsed = parseBody(request.body);
  if (!parsed.ok || !isPlainObject(parsed.value)) return false;
  const { id, inputs, parameters, outputs, ...rest } = parsed.value;
  if (Object.keys(rest).length > 0 || (id !== undefined && (typeof id !== 'string' || id.length > 128))) return false;
  if (!servableParameters(parameters, 'request') || askedOutputs(outputs) === null) return false;
  if (!Array.isArray(inputs) || inputs.length !== 1 || !isPlainObject(inputs[0])) return false;
  const { parameters: inputParameters, ...tensor } = inputs[0];
  if (!servableParameters(inputParameters, 'tensor')) return false;
  if (Object.keys(tensor).sort().join() !== 'data,datatype,name,shape') return false;
  if (typeof tensor.name !== 'string' || tensor.name.length > 128 || tensor.datatype !== 'FP32') return false;
  if (!Array.isArray(tensor.shape) || tensor.shape.length !== 2) return false;
  const coerced = tensor.shape.some((d) => typeof d === 'string');
  const [n, width] = tensor.shape.map((d) => (typeof d === 'string' && d.trim() !== '' ? Number(d) : d)) as [unknown, unknown];
  if (!Number.isInteger(n) || !Number.isInteger(width)) return false;
  if (width !== PIXELS || (n as number) < 1 || (n as number) > MAX_BATCH) return false;
  const fits = Array.isArray(tensor.data) && tensor.data.length === (n as number) * PIXELS && tensor.data.every(isPixel);
  return fits && coerced ? 'either' : fits;
}

function judge(request: InferCase, answer: Answer): void {
  expectVerdict(request, answer, takes(request));
  if (answer.status !== 200) return;
  const sent = (parseBody(request.body) as { value: { id?: string; outputs?: unknown; inputs: [{ shape: [unknown, unknown] }] } }).value;
  const n = Number(sent.inputs[0].shape[0]);
  const result = JSON.parse(answer.text) as { model_name: unknown; id: unknown; outputs: { name: string; shape: number[]; data: number[] }[] };
  const probabilities = result.outputs?.find((o) => o.name === 'probabilities');
  const digits = result.outputs?.find((o) => o.name === 'digit');
  const wellFormed =
    result.model_name === 'mnist' && typeof result.id === 'string' && (sent.id === undefined || result.id === sent.id) &&
    result.outputs.map((o) => o.name).join() === askedOutputs(sent.outputs)?.join() &&
    (!probabilities || (probabilities.shape.join() === `${n},10` && probabilities.data.length === n * 10 && probabilities.data.every(isPixel))) &&
    (!digits || (digits.shape.join() === `${n}` && digits.data.length === n && digits.data.every((d) => Number.isInteger(d) && d >= 0 && d <= 9)));
  if (!wellFormed) throw new Error(`a malformed 200 ${answer.text.slice(0, 200)} for ${describeRequest(request)}`);
  imagesStored += n;
}

let stratus: Awaited<ReturnType<typeof startLocal>>;
let rssBefore = 0;
const tally = new Tally();
/** Images classified, each of which the store keeps. */
let imagesStored = 0;

function cases(origin: string): fc.Arbitrary<InferCase> {
  return fc
    .record({ body, contentType, site: siteHeaders(origin), key: idempotencyKey })
    .map(({ body, contentType, site, key }) =>
      printable(
        { method: 'POST', path: '/v2/models/mnist/infer', headers: postHeaders({ contentType, site, idempotencyKey: key.value }), body, contentType, site, keyValid: key.valid },
        describeRequest,
      ),
    );
}

beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS, ...MODEL_ON_THIS_THREAD]);
  // The largest batches first, two at once as the consumer runs them (two model calls at a time): the
  // model's WebAssembly heap grows to fit them and never shrinks, which is the engine's high-water mark,
  // not memory a request left behind.
  const largest = JSON.stringify({ inputs: [{ name: 'image', shape: [MAX_BATCH, PIXELS], datatype: 'FP32', data: new Array(MAX_BATCH * PIXELS).fill(0.5) }] });
  const infer = () => fetch(`${stratus.url}/v2/models/mnist/infer`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: largest });
  expect((await Promise.all([infer(), infer()])).map((r) => r.status)).toEqual([200, 200]);
  // A few batches first, with another seed: the first requests grow caches and JIT code that stay.
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED + 1, count: 48, tally: new Tally(), family: () => 'warm-up' });
  rssBefore = await settledRss();
}, 30_000);
afterAll(() => stratus.stop());

test(`${CASES} fuzzed KServe requests: a 200 for each valid tensor, a short JSON 4xx for the rest, never a 5xx`, async () => {
  await fuzzRoutes({ baseUrl: stratus.url, cases: cases(stratus.url), seed: SEED, count: CASES, tally, family: () => 'kserve', judge });
  if (process.env.FUZZ_REPORT === '1') console.log(tally.toString());
  expect(tally.count('kserve', '200')).toBeGreaterThan(50);
  expectEveryOutcome(tally, 'kserve', [
    '422 invalid_body', '422 bad_shape', '400 malformed_json', '415 unsupported_media_type', '403 cross_site', '400 invalid_idempotency_key',
    '400 binary_data', '400 unsupported_parameter', '400 unknown_output',
  ]);
}, 120_000);

test('afterwards the process answers, and its memory has settled back', async () => {
  await expectAlive(stratus.url);
  await expectSettledMemory(rssBefore, imagesStored * KEPT_PER_IMAGE);
}, 30_000);
