// The gateway's prediction API: the simple JSON endpoint and the KServe v2 Open Inference Protocol.
// Schemas here validate requests and also generate /docs.
import { Elysia, t } from 'elysia';
import type { GatewayActor } from '../actors/gateway.ts';
import { CLASSES, PIXELS } from '../model/shape.ts';
import { HttpError } from './errors.ts';

export const MODEL_NAME = 'mnist';
/** Largest N in one KServe request: bounds memory per request and the batch the consumer must run. */
export const MAX_INFER_BATCH = 1024;

const Pixel = t.Number({ minimum: 0, maximum: 1 });
const SESSION_COOKIE = 'stratus_session';
const SESSION_PATTERN = /^[A-Za-z0-9-]{8,64}$/;

const PredictBody = t.Object({
  pixels: t.Array(Pixel, {
    minItems: PIXELS,
    maxItems: PIXELS,
    description: '784 values in 0..1: a 28×28 image, row-major, white digit on black (the MNIST convention)',
  }),
});

const PredictResponse = t.Object({
  id: t.String(),
  digit: t.Integer({ minimum: 0, maximum: 9 }),
  probabilities: t.Array(t.Number(), { minItems: CLASSES, maxItems: CLASSES }),
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
    }),
    { minItems: 1, maxItems: 1 },
  ),
});

const InferResponse = t.Object({
  model_name: t.String(),
  model_version: t.String(),
  id: t.String(),
  outputs: t.Array(
    t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()), data: t.Array(t.Number()) }),
  ),
});

const ModelMetadata = t.Object({
  name: t.String(),
  versions: t.Array(t.String()),
  platform: t.String(),
  inputs: t.Array(t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()) })),
  outputs: t.Array(t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()) })),
});

/** Read by hand: Elysia's cookie jar costs more per request than the rest of the route. */
function sessionFrom(header: string | null): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const [name, value] = part.trim().split('=', 2);
    if (name === SESSION_COOKIE && value && SESSION_PATTERN.test(value)) return value;
  }
  return undefined;
}

export function apiRoutes(gateway: GatewayActor) {
  return new Elysia({ name: 'stratus-api' })
    .post(
      '/api/predict',
      async ({ body, request }) => {
        const answer = await gateway.classify(new Float32Array(body.pixels), 1, sessionFrom(request.headers.get('cookie')));
        return {
          id: answer.id,
          digit: answer.digits[0] as number,
          probabilities: answer.probabilities,
          model: { version: answer.modelVersion },
        };
      },
      {
        body: PredictBody,
        response: PredictResponse,
        detail: { summary: 'Classify one 28×28 image', tags: ['predict'] },
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
        body: InferBody,
        response: InferResponse,
        detail: { summary: 'KServe v2 inference on a batch of N images', tags: ['kserve-v2'] },
      },
    )
    .get(
      `/v2/models/${MODEL_NAME}`,
      () => {
        const version = gateway.modelVersion;
        if (!version) throw new HttpError(503, 'no_model', 'no consumer has announced a model yet', { 'retry-after': '1' });
        return {
          name: MODEL_NAME,
          versions: [version],
          platform: 'tensorflowjs_layers',
          inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, PIXELS] }],
          outputs: [
            { name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] },
            { name: 'digit', datatype: 'INT64', shape: [-1] },
          ],
        };
      },
      { response: ModelMetadata, detail: { summary: 'Model metadata (KServe v2)', tags: ['kserve-v2'] } },
    );
}
