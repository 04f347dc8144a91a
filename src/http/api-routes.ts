// The gateway's prediction API: the simple JSON endpoint and the KServe v2 Open Inference Protocol.
// Schemas here validate requests and also generate /docs.
import { Elysia, t } from 'elysia';
import { CLASSES, PIXELS } from '../protocol/image.ts';
import { isIdempotencyKey, MAX_IDEMPOTENCY_KEY_LENGTH } from '../actors/idempotency.ts';
import { classifyDrawing, classifyImages, digitAnswers, type Intake } from './drawn-digits.ts';
import { HttpError } from './errors.ts';
import type { Classification, ClassifyOptions } from './gateway.ts';
import { sessionFrom } from './session.ts';

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

const InferBody = t.Object({
  id: t.Optional(t.String({ maxLength: 128 })),
  inputs: t.Array(
    t.Object({
      name: t.String({ maxLength: 128 }),
      shape: t.Array(t.Integer(), { minItems: 2, maxItems: 2, description: '[N, 784], N ≤ 1024' }),
      datatype: t.Literal('FP32'),
      data: t.Array(Pixel, { maxItems: MAX_INFER_BATCH * PIXELS, description: 'N×784 values in 0..1, flattened row-major' }),
    }, STRICT),
    { minItems: 1, maxItems: 1 },
  ),
}, STRICT);

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
  ),
});

export function apiRoutes(intake: Intake) {
  // normalize off: a field the schema does not name is refused (422), not quietly dropped.
  return new Elysia({ name: 'stratus-api', normalize: false })
    .post(
      '/api/predict',
      async ({ body, request, server, set }) => {
        const session = sessionFrom(request.headers.get('cookie'));
        const client = intake.admission.clientOf(request, server);
        if ((body.pixels === undefined) === (body.drawing === undefined)) {
          throw new HttpError(422, 'invalid_body', 'send either pixels or drawing');
        }
        const options: ClassifyOptions = { sessionId: session, idempotencyKey: idempotencyKeyOf(request) };
        if (body.drawing !== undefined) {
          const { answer } = await classifyDrawing(intake, 'api', client, body.drawing, options);
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
      `/v2/models/${MODEL_NAME}/infer`,
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
        const client = intake.admission.clientOf(request, server);
        const answer = await classifyImages(intake, 'api', client, new Float32Array(input.data), n, { idempotencyKey });
        markReplay(answer, set.headers);
        return {
          model_name: MODEL_NAME,
          model_version: answer.modelVersion,
          id: body.id ?? answer.id,
          outputs: [
            { name: 'probabilities', datatype: 'FP32', shape: [n, CLASSES], data: answer.probabilities },
            { name: 'digit', datatype: 'INT64', shape: [n], data: answer.digits },
          ],
        };
      },
      {
        parse: 'json',
        headers: IdempotencyHeaders,
        body: InferBody,
        response: InferResponse,
        detail: { summary: 'KServe v2 inference on a batch of N images', tags: ['kserve-v2'] },
      },
    );
    // GET /v2/models/mnist lives with the model registry (model-routes.ts).
}
