// The OpenAPI document of the API, made from the routes' own schemas (the ones that validate requests),
// so that it cannot drift from what the server takes: served as JSON at /docs/json and rendered as a
// page at /docs. Two corrections on what the generator gives: an integer field is written as one
// (the generator adds a string branch with a numeric default that no request may use), and every
// operation lists the error answers it can give, in the app's error shape (the protocol's on /v2 routes).
import { toOpenAPISchema } from '@elysiajs/openapi';
import type { AnyElysia } from 'elysia';
import { VERSION } from '../version.ts';
import { isInferenceProtocolPath } from './errors.ts';

type Json = Record<string, unknown>;

export interface ApiSpec {
  readonly openapi: string;
  readonly info: Json;
  readonly paths: Record<string, Record<string, Operation>>;
  readonly components: Json;
}

export interface Operation {
  readonly summary?: string;
  readonly description?: string;
  readonly tags?: string[];
  readonly parameters?: { readonly name: string; readonly in: string; readonly required?: boolean; readonly schema?: Json }[];
  readonly requestBody?: { content: Record<string, { schema: Json }> };
  readonly responses?: Record<string, { description?: string; content?: Record<string, { schema: Json }> }>;
}

/** What every error answer looks like (src/http/errors.ts). */
const ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string', description: 'stable, for programs' }, message: { type: 'string', description: 'short, for people; never echoes the input' } },
    },
  },
};

/** What an error answer of the Open Inference Protocol's routes (/v2…) looks like, as that protocol says. */
const INFERENCE_PROTOCOL_ERROR_BODY = {
  type: 'object',
  required: ['error'],
  properties: { error: { type: 'string', description: 'short, for people; never echoes the input' } },
};

/** The errors any route can give, and those only some give (by the method, or as the route declares). */
const ERRORS: Record<string, string> = {
  '400': 'malformed_json: the body is not JSON; too_deep: nested deeper than 64 levels; reserved_key: a key named toString, valueOf or toLocaleString; bad_host: no Host header, or one too short to route; invalid_idempotency_key on the prediction endpoints; on KServe inference, binary_data: binary tensors (Inference-Header-Content-Length, binary_data_size, binary_data or binary_data_output true), unsupported_parameter: shared memory or classification, unknown_output: an output the model does not have',
  '401': 'unauthorized: the admin token is missing or wrong',
  '403': 'admin_disabled (no STRATUS_ADMIN_TOKEN), or a cross-site request that would change state',
  '404': 'not_found, unknown_version, or unknown_feedback',
  '405': 'method_not_allowed: the path takes other methods (named in Allow)',
  '408': 'body_timeout: the body did not arrive within 5 s; the connection is closed',
  '409': 'version_exists; on feedback review, label_changed: the visitor relabelled the sample since it was listed',
  '413': 'body_too_large: over the route\'s limit (512 KiB for /api/predict, --max-body-bytes for the others), declared or chunked',
  '415': 'unsupported_media_type: the body is not application/json',
  '422': 'invalid_body, invalid_drawing or bad_shape: what is wrong, by field; model_refused: a published model past the limits consumers load (docs/model-registry.md)',
  '429': 'rate_limited: this client used up its requests of this kind; over_share: it holds its share of the requests in flight; too_many_failures: too many wrong admin tokens from it. Retry-After says when to try again',
  '500': 'internal, or no_answer',
  '503': 'unavailable (starting, stopping) or overloaded; Retry-After says when to try again',
  '504': 'timeout: no answer within --request-timeout-ms',
};

// Every POST is rate-limited per client (admission.ts), and its body read within a deadline (body.ts).
const POST_ERRORS = ['400', '408', '413', '415', '422', '429'];
const CLASSIFYING = ['503', '504'];
const ADMIN = ['401', '403', '404'];

export function apiSpec(app: AnyElysia): ApiSpec {
  const { paths, components } = toOpenAPISchema(app, { paths: ['/', '/docs', '/docs/json'] });
  const spec: ApiSpec = {
    openapi: '3.1.0',
    info: {
      title: 'Stratus API',
      version: VERSION,
      description: 'Handwritten digit recognition: a 28×28 image or a drawing in, the digits and their ten probabilities out.',
    },
    paths: paths as ApiSpec['paths'],
    components: components as Json,
  };
  for (const [path, operations] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(operations)) addErrors(path, method, operation);
  }
  return withoutNumericStrings(spec) as ApiSpec;
}

function addErrors(path: string, method: string, operation: Operation): void {
  const statuses = ['405', '500'];
  if (method === 'post') statuses.push(...POST_ERRORS);
  if (path === '/api/predict' || path.endsWith('/infer')) statuses.push(...CLASSIFYING);
  if (method === 'post' && path.startsWith('/api/models')) statuses.push(...ADMIN, '409');
  // The feedback review is admin throughout, its listing included (a query it refuses: 422; wrong tokens: 429).
  if (path.startsWith('/api/feedback')) statuses.push(...ADMIN, '422', '429', ...(method === 'post' ? ['409'] : []));
  const responses = ((operation as { responses?: Operation['responses'] }).responses ??= {});
  const schema = isInferenceProtocolPath(path) ? INFERENCE_PROTOCOL_ERROR_BODY : ERROR_BODY;
  for (const status of statuses) {
    responses[status] ??= { description: ERRORS[status] ?? 'error', content: { 'application/json': { schema } } };
  }
}

/** An integer or number field as the generator writes it: anyOf [a string spelling of it, the number]. */
function isNumericString(schema: unknown): boolean {
  const { type, format } = (schema ?? {}) as { type?: unknown; format?: unknown };
  return type === 'string' && (format === 'integer' || format === 'numeric');
}

function withoutNumericStrings(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withoutNumericStrings);
  if (node === null || typeof node !== 'object') return node;
  const { anyOf, ...rest } = node as { anyOf?: unknown[] };
  if (Array.isArray(anyOf) && anyOf.length === 2 && anyOf.some(isNumericString)) {
    return withoutNumericStrings({ ...rest, ...(anyOf.find((branch) => !isNumericString(branch)) as object) });
  }
  return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, withoutNumericStrings(value)]));
}
