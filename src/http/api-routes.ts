// The gateway's prediction API: the simple JSON endpoint and the KServe v2 Open Inference Protocol.
// Schemas here validate requests and also generate /docs.
import { Elysia, t } from 'elysia';
import { CLASSES, PIXELS } from '../protocol/image.ts';
import { isJsonObject } from '../protocol/json-object.ts';
import { isIdempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH } from '../actors/idempotency.ts';
import { classifyDrawing, classifyImages, digitAnswers, type Intake } from './drawn-digits.ts';
import { HttpError } from './errors.ts';
import type { Classification, ClassifyOptions } from './gateway.ts';
import { pathOf } from './request-path.ts';

export const MODEL_NAME = 'mnist';
/** Largest N in one KServe request: bounds memory per request and the batch the consumer must run. */
export const MAX_INFER_BATCH = 1024;

const Pixel = t.Number({ minimum: 0, maximum: 1 });
/** A body field the schema does not name is refused (422), not quietly dropped: a typo should say so. */
export const STRICT = { additionalProperties: false } as const;
const Probabilities = t.Array(t.Number(), { minItems: CLASSES, maxItems: CLASSES });

// Two forms, exactly one per request. The drawing is checked by validateDrawing (src/preprocess/drawing.ts),
// not by a schema here: Elysia's normaliser would reshape a malformed drawing before the check saw it.
const PredictBody = t.Object({
  pixels: t.Optional(
    t.Array(Pixel, {
      minItems: PIXELS,
      maxItems: PIXELS,
      description: '784 values in 0..1: a 28×28 image, row-major, white digit on black (the MNIST convention)',
    }),
  ),
  drawing: t.Optional(
    t.Unknown({
      description:
        'Instead of pixels: pen strokes as drawn, {"width", "height", "strokes": [[{"x","y"}, …], …], "lineWidth"?} in ' +
        'canvas pixels (y down); at most 64 strokes, 8,192 points, sides ≤ 4096. Split into digits left to right.',
      examples: [{ width: 500, height: 200, strokes: [[{ x: 100, y: 30 }, { x: 100, y: 170 }]] }],
    }),
  ),
}, STRICT);

const PredictResponse = t.Object({
  id: t.String(),
  number: t.Optional(t.String({ description: 'drawing form: the digits read, left to right' })),
  digits: t.Optional(
    t.Array(t.Object({ digit: t.Integer({ minimum: 0, maximum: 9 }), probabilities: Probabilities }), {
      description: 'drawing form: one answer per digit, left to right',
    }),
  ),
  digit: t.Integer({ minimum: 0, maximum: 9, description: 'the (first) digit' }),
  probabilities: t.Array(t.Number(), { minItems: CLASSES, maxItems: CLASSES, description: "the (first) digit's probabilities" }),
  model: t.Object({ version: t.String() }),
});

/** The protocol's `parameters`: a flat map of strings, numbers and booleans. Read only for what Stratus
 * cannot serve (unservedExtension); the rest (Triton's sequence_id, priority, timeout, a client's own) is
 * taken and has no effect on the answer. */
const Parameters = t.Record(t.String(), t.Union([t.String(), t.Number(), t.Boolean()]), {
  description: 'the protocol\'s parameters: taken and ignored, except binary data, shared memory and classification, which are refused (400)',
});

/** The model's outputs, in the order they are answered when the request names none. */
export const OUTPUT_NAMES = ['probabilities', 'digit'] as const;
type OutputName = (typeof OUTPUT_NAMES)[number];

const InferBody = t.Object({
  id: t.Optional(t.String({ maxLength: 128 })),
  parameters: t.Optional(Parameters),
  inputs: t.Array(
    t.Object({
      name: t.String({ maxLength: 128 }),
      shape: t.Array(t.Integer(), { minItems: 2, maxItems: 2, description: '[N, 784], N ≤ 1024' }),
      datatype: t.Literal('FP32'),
      parameters: t.Optional(Parameters),
      data: t.Array(Pixel, { maxItems: MAX_INFER_BATCH * PIXELS, description: 'N×784 values in 0..1, flattened row-major' }),
    }, STRICT),
    { minItems: 1, maxItems: 1 },
  ),
  outputs: t.Optional(
    t.Array(t.Object({ name: t.String({ maxLength: 128 }), parameters: t.Optional(Parameters) }, STRICT), {
      minItems: 1,
      maxItems: 16,
      description: `the outputs to answer, by name (${OUTPUT_NAMES.join(', ')}), each once, in the order named; all of them when absent`,
    }),
  ),
}, STRICT);

const INFER_PATH = `/v2/models/${MODEL_NAME}/infer`;
/** Triton's binary data extension: the JSON part's length, when binary tensors follow it in the body. */
const BINARY_HEADER = 'inference-header-content-length';

const binaryRefusal = (headers: Record<string, string> = {}) =>
  new HttpError(400, 'binary_data', 'binary tensor data is not supported: send inputs as JSON "data" and ask for outputs with binary_data false', headers);

const parametersOf = (value: unknown): Record<string, unknown> => {
  const parameters = isJsonObject(value) ? value.parameters : undefined;
  return isJsonObject(parameters) ? parameters : {};
};

/**
 * The protocol's extensions that move tensors or answers outside the JSON, which Stratus does not serve:
 * binary data, shared memory, and classification (labels instead of the tensor). Looked for before the
 * schema, on the body as parsed, so that the answer names the extension instead of a missing `data`;
 * answering JSON anyway would leave the client reading a buffer or region that holds nothing.
 */
function unservedExtension(body: unknown): HttpError | null {
  if (!isJsonObject(body)) return null;
  if (parametersOf(body).binary_data_output === true) return binaryRefusal();
  const inputs = Array.isArray(body.inputs) ? body.inputs : [];
  const outputs = Array.isArray(body.outputs) ? body.outputs : [];
  for (const tensor of [...inputs, ...outputs]) {
    const parameters = parametersOf(tensor);
    if (parameters.binary_data_size !== undefined || parameters.binary_data === true) return binaryRefusal();
    const unserved = Object.keys(parameters).find((key) => key.startsWith('shared_memory_') || key === 'classification');
    if (unserved !== undefined) {
      return new HttpError(400, 'unsupported_parameter', `parameter ${unserved} is not supported: Stratus answers every tensor in the JSON body`);
    }
  }
  return null;
}

function requestedOutputs(outputs: readonly { name: string }[] | undefined): readonly OutputName[] {
  if (outputs === undefined) return OUTPUT_NAMES;
  const names = [...new Set(outputs.map((output) => output.name))];
  const unknown = names.find((name) => !(OUTPUT_NAMES as readonly string[]).includes(name));
  if (unknown !== undefined) {
    // The name is the client's: cut short, it still says which, and no body comes back through it.
    throw new HttpError(400, 'unknown_output', `no output named "${unknown.slice(0, 40)}"; this model's outputs are ${OUTPUT_NAMES.join(' and ')}`);
  }
  return names as OutputName[];
}

// Declared for /docs; checked by idempotencyKeyOf, which answers a bad key with a 400 of its own.
const IdempotencyHeaders = t.Object({
  'idempotency-key': t.Optional(
    t.String({
      description:
        `Up to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters. Sending the same request again with the same key, to any ` +
        'gateway, for a day or more, answers with the first answer (response header idempotent-replayed: true) instead of ' +
        'classifying again. The key names the request together with its images: other images are another request.',
    }),
  ),
});

function idempotencyKeyOf(request: Request): string | undefined {
  const key = request.headers.get('idempotency-key');
  if (key === null) return undefined;
  if (!isIdempotencyKey(key)) {
    throw new HttpError(400, 'invalid_idempotency_key', `Idempotency-Key must be 1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} visible ASCII characters`);
  }
  return key;
}

/** Says so in a header when the answer is an earlier one, replayed for the same Idempotency-Key. */
function markReplay(answer: Classification, headers: Record<string, string | number>): void {
  if (answer.replayed) headers['idempotent-replayed'] = 'true';
}

const InferResponse = t.Object({
  model_name: t.String(),
  model_version: t.String(),
  id: t.String(),
  outputs: t.Array(
    t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()), data: t.Array(t.Number()) }),
    { description: 'the outputs the request named, in its order; both, probabilities then digit, when it named none' },
  ),
});

export function apiRoutes(intake: Intake) {
  // normalize off: a field the schema does not name is refused (422), not quietly dropped.
  return new Elysia({ name: 'stratus-api', normalize: false })
    // A body in the binary data extension is JSON followed by raw tensors, which the JSON parser would call
    // malformed: refused by its header before the body is read. Elysia runs this for every request, after
    // the app's own checks (app.ts); the header alone decides for all others.
    .onRequest(({ request }) => {
      if (!request.headers.has(BINARY_HEADER) || request.method !== 'POST' || pathOf(request) !== INFER_PATH) return;
      // As the app's refusals before the body: the connection closes rather than wait for a body unread.
      throw binaryRefusal(request.body === null ? {} : { connection: 'close' });
    })
    .post(
      '/api/predict',
      async ({ body, request, server, set }) => {
        const session = intake.admission.sessionOf(request);
        const client = intake.admission.clientOf(request, server);
        if ((body.pixels === undefined) === (body.drawing === undefined)) {
          throw new HttpError(422, 'invalid_body', 'send either pixels or drawing');
        }
        const options: ClassifyOptions = { sessionId: session, idempotencyKey: idempotencyKeyOf(request) };
        if (body.drawing !== undefined) {
          const answer = await classifyDrawing(intake, 'api', client, body.drawing, options);
          markReplay(answer, set.headers);
          const digits = digitAnswers(answer);
          const first = digits[0] as (typeof digits)[number];
          return {
            id: answer.id,
            number: answer.digits.join(''),
            digits,
            digit: first.digit,
            probabilities: first.probabilities,
            model: { version: answer.modelVersion },
          };
        }
        const answer = await classifyImages(intake, 'api', client, new Float32Array(body.pixels as number[]), 1, options);
        markReplay(answer, set.headers);
        return {
          id: answer.id,
          digit: answer.digits[0] as number,
          probabilities: answer.probabilities,
          model: { version: answer.modelVersion },
        };
      },
      {
        // Read by the app's parser (app.ts); named here so that /docs says JSON, the one type taken.
        parse: 'json',
        headers: IdempotencyHeaders,
        body: PredictBody,
        response: PredictResponse,
        detail: { summary: 'Classify one 28×28 image, or a drawn digit or number', tags: ['predict'] },
      },
    )
    .post(
      INFER_PATH,
      async ({ body, request, server, set }) => {
        const input = body.inputs[0]!;
        const idempotencyKey = idempotencyKeyOf(request);
        const [n, width] = input.shape as [number, number];
        if (width !== PIXELS || n < 1 || n > MAX_INFER_BATCH) {
          throw new HttpError(422, 'bad_shape', `shape must be [N, ${PIXELS}] with 1 ≤ N ≤ ${MAX_INFER_BATCH}`);
        }
        if (input.data.length !== n * PIXELS) {
          throw new HttpError(422, 'bad_shape', `data has ${input.data.length} values; shape [${n}, ${PIXELS}] needs ${n * PIXELS}`);
        }
        const wanted = requestedOutputs(body.outputs);
        const client = intake.admission.clientOf(request, server);
        const answer = await classifyImages(intake, 'api', client, new Float32Array(input.data), n, { idempotencyKey });
        markReplay(answer, set.headers);
        const tensors = {
          probabilities: { name: 'probabilities', datatype: 'FP32', shape: [n, CLASSES], data: answer.probabilities },
          digit: { name: 'digit', datatype: 'INT64', shape: [n], data: answer.digits },
        };
        return {
          model_name: MODEL_NAME,
          model_version: answer.modelVersion,
          id: body.id ?? answer.id,
          outputs: wanted.map((name) => tensors[name]),
        };
      },
      {
        parse: 'json',
        // Before the schema: what the body asks for that Stratus does not serve is named, not reported
        // as a field the schema misses.
        transform: ({ body }) => {
          const refusal = unservedExtension(body);
          if (refusal) throw refusal;
        },
        headers: IdempotencyHeaders,
        body: InferBody,
        response: InferResponse,
        detail: { summary: 'KServe v2 inference on a batch of N images', tags: ['kserve-v2'] },
      },
    );
    // GET /v2/models/mnist lives with the model registry (model-routes.ts).
}
