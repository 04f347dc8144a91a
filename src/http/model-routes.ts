// The model registry over HTTP: KServe model metadata with every stored version and the one serving,
// the registry as JSON for the dashboard, and two admin endpoints: publish a new version, and serve
// (promote or roll back to) a stored one. Who counts as admin, and the audit lines: admin-guard.ts.
// Two plugins: the reads are public; the admin endpoints go on --admin-port when one is given (app.ts),
// so the public port, the one the Ingress routes, never takes them.
import { Elysia, t } from 'elysia';
import { ModelRegistry, VERSION_PATTERN } from '../model/model-registry.ts';
import { ModelLimitError } from '../model/model-limits.ts';
import { CLASSES, PIXELS } from '../protocol/image.ts';
import { VERSION } from '../version.ts';
import { MODEL_NAME, STRICT } from './api-routes.ts';
import type { Admission } from './admission.ts';
import { adminAccess, type AdminGuard } from './admin-guard.ts';
import { HttpError } from './errors.ts';
import type { Gateway } from './gateway.ts';
import { settledState, stateOf } from './model-state.ts';

export interface ModelRoutesOptions {
  readonly registry: ModelRegistry;
  readonly admin: AdminGuard;
}

const ModelMetadata = t.Object({
  name: t.String(),
  versions: t.Array(t.String(), { description: 'stored versions newest first, plus the serving one if it is not stored (the embedded model)' }),
  platform: t.String(),
  inputs: t.Array(t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()) })),
  outputs: t.Array(t.Object({ name: t.String(), datatype: t.String(), shape: t.Array(t.Integer()) })),
  serving: t.String({ description: 'the version the consumers last said they serve' }),
});

const State = t.Union([t.Literal('serving'), t.Literal('loading'), t.Literal('refused'), t.Literal('stored')], {
  description: 'serving: a consumer serves it; loading: selected, not served yet; refused: a consumer would not serve it (see reason); stored: neither',
});
/** Where a published or promoted version stands once the consumers have answered. */
const Outcome = t.Object({ version: t.String(), state: State, reason: t.Optional(t.String({ description: 'why it was refused' })) });

const ServerMetadata = t.Object({ name: t.String(), version: t.String(), extensions: t.Array(t.String()) });
const ModelReady = t.Object({ name: t.String(), ready: t.Boolean() });

const Metrics = t.Record(t.String(), t.Unknown());

const Registry = t.Object({
  serving: t.Nullable(t.String({ description: 'the version the consumers last said they serve' })),
  selected: t.Nullable(t.String({ description: 'the version they were last told to serve (the store’s serving version)' })),
  versions: t.Array(t.Object({ version: t.String(), createdAt: t.String(), state: State, reason: t.Optional(t.String()), metrics: t.Optional(Metrics) })),
});

const PublishBody = t.Object({
  version: t.String({ pattern: VERSION_PATTERN.source, description: 'unique name of the version' }),
  metrics: t.Optional(Metrics),
  modelJson: t.Object(
    { modelTopology: t.Record(t.String(), t.Unknown()), weightsManifest: t.Array(t.Unknown(), { minItems: 1 }) },
    { additionalProperties: true, description: 'model.json of the tfjs layers format' },
  ),
  weightsBase64: t.String({ minLength: 4, description: 'weights.bin, base64' }),
  onnxBase64: t.Optional(
    t.String({
      minLength: 4,
      description:
        'model.onnx, base64, as the trainer writes it, at most weights.bin plus 1 MiB. Accepted and replaced: the registry stores its own export of model.json and weights.bin, which consumers on the onnx engine serve',
    }),
  ),
}, STRICT);

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** An ONNX form of the weights holds them (float32, as weights.bin does) and a graph of a few kilobytes:
 * one much larger is not these weights, and is refused before it is stored. */
const ONNX_GRAPH_ALLOWANCE = 1024 * 1024;

function base64Field(name: string, text: string): Uint8Array {
  if (!BASE64.test(text) || text.length % 4 !== 0) throw new HttpError(422, 'invalid_body', `${name} is not base64`);
  return new Uint8Array(Buffer.from(text, 'base64'));
}

/** The reads: KServe server and model metadata, model readiness, the registry as JSON. */
export function modelRoutes(gateway: Gateway, registry: ModelRegistry) {
  const serving = () => {
    const version = gateway.modelVersion;
    if (!version) throw new HttpError(503, 'no_model', 'no consumer has announced a model yet', { 'retry-after': '1' });
    return version;
  };

  return new Elysia({ name: 'stratus-models', normalize: false })
    .get('/v2', () => ({ name: 'stratus', version: VERSION, extensions: [] }), {
      response: ServerMetadata,
      detail: { summary: 'Server metadata (KServe v2)', tags: ['kserve-v2'] },
    })
    .get(
      `/v2/models/${MODEL_NAME}/ready`,
      ({ set }) => {
        // 200 once a consumer serves a model; the protocol says a non-200 means not ready.
        const ready = gateway.modelVersion !== null;
        if (!ready) set.status = 503;
        return { name: MODEL_NAME, ready };
      },
      { response: { 200: ModelReady, 503: ModelReady }, detail: { summary: 'Model readiness (KServe v2): 200 once a consumer serves it', tags: ['kserve-v2'] } },
    )
    .get(
      `/v2/models/${MODEL_NAME}`,
      async () => {
        const version = serving();
        const stored = (await registry.list()).map((model) => model.version);
        return {
          name: MODEL_NAME,
          versions: stored.includes(version) ? stored : [version, ...stored],
          platform: 'tensorflowjs_layers',
          inputs: [{ name: 'image', datatype: 'FP32', shape: [-1, PIXELS] }],
          outputs: [
            { name: 'probabilities', datatype: 'FP32', shape: [-1, CLASSES] },
            { name: 'digit', datatype: 'INT64', shape: [-1] },
          ],
          serving: version,
        };
      },
      { response: ModelMetadata, detail: { summary: 'Model metadata (KServe v2), every version and the one serving', tags: ['kserve-v2'] } },
    )
    .get(
      '/api/models',
      async () => {
        const [versions, selected] = await Promise.all([registry.list(), registry.selected()]);
        return {
          serving: gateway.modelVersion,
          selected,
          versions: versions.map(({ version, createdAt, metrics }) => ({ version, createdAt, ...stateOf(version, selected, gateway), ...(metrics ? { metrics } : {}) })),
        };
      },
      { response: Registry, detail: { summary: 'The model registry: stored versions, newest first, and the one serving', tags: ['models'] } },
    );
}

/** The admin endpoints: publish a version, serve a stored one. */
export function modelAdminRoutes(gateway: Gateway, options: ModelRoutesOptions, admission: Admission) {
  const { registry, admin: guard } = options;
  const { clientOf, admin } = adminAccess(guard, admission);

  return new Elysia({ name: 'stratus-models-admin', normalize: false })
    .post(
      '/api/models',
      async ({ body, set, request, server }) => {
        const weightsBin = base64Field('weightsBase64', body.weightsBase64);
        // Whether it loads is the consumers' to tell (the gateway runs no model): they refuse it with the reason.
        const modelOnnx = body.onnxBase64 === undefined ? undefined : base64Field('onnxBase64', body.onnxBase64);
        if (modelOnnx && modelOnnx.byteLength > weightsBin.byteLength + ONNX_GRAPH_ALLOWANCE) {
          throw new HttpError(422, 'invalid_body', `onnxBase64 holds ${modelOnnx.byteLength} bytes, more than weights.bin (${weightsBin.byteLength}) and 1 MiB of graph`);
        }
        const files = {
          modelJson: new TextEncoder().encode(JSON.stringify(body.modelJson)),
          weightsBin,
          ...(modelOnnx ? { modelOnnx } : {}),
        };
        const meta = { version: body.version, createdAt: new Date().toISOString(), ...(body.metrics ? { metrics: body.metrics } : {}) };
        gateway.forgetRefusal(body.version);
        const outcome = await registry.publish(meta, files).catch((error: unknown) => {
          throw error instanceof ModelLimitError ? new HttpError(422, 'model_refused', error.message) : error;
        });
        if (outcome === 'exists') throw new HttpError(409, 'version_exists', `model version ${body.version} is already stored`);
        set.status = 201;
        const state = await settledState(body.version, gateway);
        guard.record('publish', clientOf(request, server), body.version, { version: body.version, state: state.state });
        return { version: body.version, ...state };
      },
      {
        ...admin,
        parse: 'json',
        body: PublishBody,
        response: { 201: Outcome },
        detail: {
          summary: 'Publish a new model version and serve it (admin); answers once the consumers serve or refuse it (or still load it after 10 s)',
          tags: ['models'],
        },
      },
    )
    .post(
      '/api/models/:version/serve',
      async ({ params, set, request, server }) => {
        if (!VERSION_PATTERN.test(params.version)) throw new HttpError(404, 'unknown_version', 'no such model version in the store');
        gateway.forgetRefusal(params.version);
        if (!(await registry.serve(params.version))) throw new HttpError(404, 'unknown_version', 'no such model version in the store');
        set.status = 202;
        const state = await settledState(params.version, gateway);
        guard.record('serve', clientOf(request, server), params.version, { version: params.version, state: state.state });
        return { version: params.version, ...state };
      },
      {
        ...admin,
        response: { 202: Outcome },
        detail: { summary: 'Serve a stored version: promote or roll back (admin); answers as publishing does', tags: ['models'] },
      },
    );
}
