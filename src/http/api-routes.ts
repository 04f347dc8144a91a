// The gateway's prediction API: the simple JSON endpoint and the KServe v2 Open Inference Protocol.
// Schemas here validate requests and also generate /docs.
import { Elysia, t } from 'elysia';
import { CLASSES, PIXELS } from '../protocol/image.ts';
import { classifyDrawing, digitAnswers } from './drawn-digits.ts';
import { HttpError } from './errors.ts';
import type { Gateway } from './gateway.ts';
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

const InferResponse = t.Object({
  model_name: t.String(),
  model_version: t.String(),
  id: t.String(),
  outputs: t.Array(
    t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()), data: t.Array(t.Number()) }),
  ),
});

export function apiRoutes(gateway: Gateway) {
  // normalize off: a field the schema does not name is refused (422), not quietly dropped.
  return new Elysia({ name: 'stratus-api', normalize: false })
    .post(
      '/api/predict',
      async ({ body, request }) => {
        const session = sessionFrom(request.headers.get('cookie'));
        if ((body.pixels === undefined) === (body.drawing === undefined)) {
          throw new HttpError(422, 'invalid_body', 'send either pixels or drawing');
        }
        if (body.drawing !== undefined) {
          const { answer } = await classifyDrawing(gateway, body.drawing, session);
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
        const answer = await gateway.classify(new Float32Array(body.pixels as number[]), 1, session);
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
        body: PredictBody,
        response: PredictResponse,
        detail: { summary: 'Classify one 28×28 image, or a drawn digit or number', tags: ['predict'] },
      },
    )
    .post(
      `/v2/models/${MODEL_NAME}/infer`,
      async ({ body }) => {
        const input = body.inputs[0]!;
        const [n, width] = input.shape as [number, number];
        if (width !== PIXELS || n < 1 || n > MAX_INFER_BATCH) {
          throw new HttpError(422, 'bad_shape', `shape must be [N, ${PIXELS}] with 1 ≤ N ≤ ${MAX_INFER_BATCH}`);
        }
        if (input.data.length !== n * PIXELS) {
          throw new HttpError(422, 'bad_shape', `data has ${input.data.length} values; shape [${n}, ${PIXELS}] needs ${n * PIXELS}`);
        }
        const answer = await gateway.classify(new Float32Array(input.data), n);
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
        body: InferBody,
        response: InferResponse,
        detail: { summary: 'KServe v2 inference on a batch of N images', tags: ['kserve-v2'] },
      },
    );
    // GET /v2/models/mnist lives with the model registry (model-routes.ts).
}
