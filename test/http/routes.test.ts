// The HTTP layer alone, through app.handle (no port, no model, no transport): a fake gateway answers or
// fails on cue, and each test checks what the app makes of it. Milliseconds each; the whole service is
// tested from outside in api.test.ts and the e2e suites.
import { describe, expect, test } from 'bun:test';
import { NoAnswer, TimedOut, Unavailable } from '../../src/actors/errors.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import type { Classification, ClassifyOptions, Gateway, ModelRefusal } from '../../src/http/gateway.ts';
import { AdminGuard, FAILED_LOGINS } from '../../src/http/admin-guard.ts';
import { createApp } from '../../src/http/app.ts';
import { MAX_PAGE_BODY_BYTES } from '../../src/http/page-routes.ts';
import { PREDICT_PATH } from '../../src/views/drawing-page.ts';
import { Validator } from '@seriousme/openapi-schema-validator';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { ModelRegistry } from '../../src/model/model-registry.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { decodeJson, encodeJson, type ModelUpdated } from '../../src/protocol/messages.ts';
import { TOPIC } from '../../src/protocol/topics.ts';
import { Secret } from '../../src/secret.ts';
import { tinyModel } from '../helpers/tiny-model.ts';
import { waitFor } from '../helpers/wait.ts';

const PIXELS = 784;

/** Answers each image with a one-hot guess of `digit`, or throws what the test put in `failure`. */
class FakeGateway implements Gateway {
  modelVersion: string | null = 'fake-1';
  failure: unknown = null;
  readonly refusals = new Map<string, ModelRefusal>();
  readonly calls: { count: number; sessionId: string | undefined; idempotencyKey: string | undefined; pixels: Float32Array }[] = [];
  constructor(private readonly digit = 7) {}

  refusalOf(version: string): ModelRefusal | null {
    return this.refusals.get(version) ?? null;
  }

  forgetRefusal(version: string): void {
    this.refusals.delete(version);
  }

  async classify(pixels: Float32Array, count: number, options: ClassifyOptions = {}): Promise<Classification> {
    this.calls.push({ count, sessionId: options.sessionId, idempotencyKey: options.idempotencyKey, pixels });
    if (this.failure) throw this.failure;
    const probabilities = Array.from({ length: count * 10 }, (_, i) => (i % 10 === this.digit ? 0.91 : 0.01));
    return { id: `req-${this.calls.length}`, digits: Array(count).fill(this.digit), probabilities, modelVersion: this.modelVersion ?? '', timings: { totalMs: 1 } };
  }
}

async function appWith(options: { gateway?: FakeGateway; notReady?: string[]; adminToken?: string; maxBodyBytes?: number } = {}) {
  const gateway = options.gateway ?? new FakeGateway();
  const metrics = new Metrics();
  const store = new PouchStore({ adapter: 'memory', directory: `routes-${crypto.randomUUID()}` });
  await store.open();
  const transport = new MemoryTransport();
  await transport.start();
  const registry = new ModelRegistry(store, transport);
  // What the app logs, one parsed JSON line each: the admin tests read their audit lines here.
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const app = createApp({
    readiness: { notReadyReasons: () => options.notReady ?? [] },
    metrics,
    logger,
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024,
    gateway,
    store,
    models: { registry, admin: new AdminGuard(options.adminToken ? new Secret(options.adminToken) : null, logger) },
  });
  const call = (path: string, init: RequestInit = {}) => app.handle(new Request(`http://stratus.test${path}`, init));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    // As a client sends it: the app refuses an oversized body by its declared length, before reading it.
    const length = String(Buffer.byteLength(text));
    return call(path, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': length, ...headers }, body: text });
  };
  return { gateway, metrics, call, post, store, transport, logLines };
}

const pixels = () => ({ pixels: new Array(PIXELS).fill(0.5) });

async function errorOf(response: Response): Promise<{ status: number; code: string; retryAfter: string | null }> {
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.message.length).toBeGreaterThan(0);
  return { status: response.status, code: body.error.code, retryAfter: response.headers.get('retry-after') };
}

describe('routes through app.handle', () => {
  test('POST /api/predict answers the gateway\'s classification: the digit, its probabilities, the model', async () => {
    const { post, gateway } = await appWith();
    const response = await post('/api/predict', pixels());
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { id: string; digit: number; probabilities: number[]; model: { version: string } };
    expect(answer).toEqual({ id: 'req-1', digit: 7, probabilities: expect.any(Array), model: { version: 'fake-1' } });
    expect(answer.probabilities).toHaveLength(10);
    expect(gateway.calls[0]?.count).toBe(1);
    expect(gateway.calls[0]?.pixels).toEqual(new Float32Array(PIXELS).fill(0.5));
  });

  test('a drawing is cut into digits left to right and classified in one call', async () => {
    const { post, gateway } = await appWith();
    const stroke = (x: number) => [
      { x, y: 20 },
      { x, y: 180 },
    ];
    const response = await post('/api/predict', { drawing: { width: 400, height: 200, strokes: [stroke(300), stroke(60), stroke(180)] } });
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { number: string; digits: { digit: number }[] };
    expect(answer.number).toBe('777');
    expect(answer.digits).toHaveLength(3);
    expect(gateway.calls.map((c) => c.count)).toEqual([3]);
  });

  test('KServe v2 infer hands N images to the gateway and returns [N,10] and [N]', async () => {
    const { post, gateway } = await appWith();
    const response = await post('/v2/models/mnist/infer', { id: 'k', inputs: [{ name: 'image', shape: [3, PIXELS], datatype: 'FP32', data: new Array(3 * PIXELS).fill(0) }] });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; model_version: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body.id).toBe('k');
    expect(body.model_version).toBe('fake-1');
    expect(body.outputs.map((o) => [o.name, o.shape])).toEqual([
      ['probabilities', [3, 10]],
      ['digit', [3]],
    ]);
    expect(gateway.calls[0]?.count).toBe(3);
  });

  /** A KServe v2 request for two blank images, plus any of the fields the protocol allows besides the tensor. */
  const inferBody = (extra: Record<string, unknown> = {}, input: Record<string, unknown> = {}) => ({
    inputs: [{ name: 'image', shape: [2, PIXELS], datatype: 'FP32', data: new Array(2 * PIXELS).fill(0), ...input }],
    ...extra,
  });

  /** A /v2 refusal as the protocol's clients read it: the status, the code header, and the message. */
  async function protocolErrorOf(response: Response): Promise<{ status: number; code: string | null; message: string }> {
    const body = (await response.json()) as { error: string };
    expect(Object.keys(body)).toEqual(['error']);
    return { status: response.status, code: response.headers.get('stratus-error-code'), message: body.error };
  }

  test("KServe v2 infer takes the protocol's optional fields, as Triton's client sends them, and answers only the outputs asked for", async () => {
    const { post, gateway } = await appWith();
    const request = inferBody(
      { id: 'r1', parameters: { sequence_id: 0, priority: 1, timeout: 500, custom: 'x' }, outputs: [{ name: 'digit', parameters: { binary_data: false } }] },
      { parameters: { note: 'ignored', flag: true } },
    );
    const response = await post('/v2/models/mnist/infer', request);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; outputs: { name: string; datatype: string; shape: number[]; data: number[] }[] };
    expect(body.id).toBe('r1');
    expect(body.outputs).toEqual([{ name: 'digit', datatype: 'INT64', shape: [2], data: [7, 7] }]);
    // Named twice, in the other order: each once, in the order asked.
    const both = await post('/v2/models/mnist/infer', inferBody({ outputs: [{ name: 'digit' }, { name: 'probabilities' }, { name: 'digit' }] }));
    expect(((await both.json()) as { outputs: { name: string }[] }).outputs.map((o) => o.name)).toEqual(['digit', 'probabilities']);
    expect(gateway.calls.map((call) => call.count)).toEqual([2, 2]);
  });

  test('KServe v2 infer refuses an output the model does not have, with a 400 that names it, before classifying', async () => {
    const { post, gateway } = await appWith();
    const response = await post('/v2/models/mnist/infer', inferBody({ outputs: [{ name: 'digit' }, { name: 'logits' }] }));
    expect(await protocolErrorOf(response)).toEqual({
      status: 400,
      code: 'unknown_output',
      message: 'no output named "logits"; this model\'s outputs are probabilities and digit',
    });
    expect(gateway.calls).toEqual([]);
  });

  test.each([
    ['binary input (binary_data_size)', inferBody({}, { data: undefined, parameters: { binary_data_size: 2 * PIXELS * 4 } }), 'binary_data'],
    ['a binary output (binary_data true)', inferBody({ outputs: [{ name: 'digit', parameters: { binary_data: true } }] }), 'binary_data'],
    ['every output binary (binary_data_output, what the client sends when it names no output)', inferBody({ parameters: { binary_data_output: true } }), 'binary_data'],
    ['an input in shared memory', inferBody({}, { data: undefined, parameters: { shared_memory_region: 'r', shared_memory_byte_size: 6272 } }), 'unsupported_parameter'],
    ['an output into shared memory', inferBody({ outputs: [{ name: 'digit', parameters: { binary_data: false, shared_memory_region: 'r', shared_memory_byte_size: 16 } }] }), 'unsupported_parameter'],
    ['classification labels instead of the tensor', inferBody({ outputs: [{ name: 'probabilities', parameters: { classification: 3 } }] }), 'unsupported_parameter'],
  ])('KServe v2 infer refuses %s with a 400 saying so, not a schema error', async (_name, body, code) => {
    const { post, gateway } = await appWith();
    const refusal = await protocolErrorOf(await post('/v2/models/mnist/infer', body));
    expect({ status: refusal.status, code: refusal.code }).toEqual({ status: 400, code });
    expect(refusal.message).toMatch(code === 'binary_data' ? /^binary tensor data is not supported/ : /^parameter (shared_memory_region|classification) is not supported/);
    expect(gateway.calls).toEqual([]);
  });

  test('KServe v2 infer refuses a body in the binary data extension by its header, before reading it as JSON', async () => {
    const { call, gateway } = await appWith();
    const header = JSON.stringify({ inputs: [{ name: 'image', shape: [1, PIXELS], datatype: 'FP32', parameters: { binary_data_size: PIXELS * 4 } }] });
    // The JSON part, then the raw tensor (784 float zeros): not JSON as a whole, which would otherwise be a malformed_json.
    const json = new TextEncoder().encode(header);
    const body = new Uint8Array(json.byteLength + PIXELS * 4);
    body.set(json);
    const headers = { 'content-type': 'application/json', 'content-length': String(body.byteLength), 'inference-header-content-length': String(header.length) };
    const response = await call('/v2/models/mnist/infer', { method: 'POST', headers, body });
    expect(await protocolErrorOf(response)).toEqual({ status: 400, code: 'binary_data', message: expect.stringMatching(/^binary tensor data is not supported/) });
    expect(response.headers.get('connection')).toBe('close');
    expect(gateway.calls).toEqual([]);
    // The header means nothing to the other routes.
    expect((await call('/api/predict', { method: 'POST', headers: { 'content-type': 'application/json', 'inference-header-content-length': '3' }, body: JSON.stringify(pixels()) })).status).toBe(200);
  });

  test("KServe v2 infer still refuses what the protocol does not allow: a parameter that is not a string, number or boolean, an unknown field, no outputs", async () => {
    const { post, gateway } = await appWith();
    for (const body of [
      inferBody({ parameters: { nested: { a: 1 } } }),
      inferBody({}, { parameters: { list: [1] } }),
      inferBody({ outputs: [{ name: 'digit', datatype: 'INT64' }] }),
      inferBody({ outputs: [] }),
      inferBody({ model: 'mnist' }),
    ]) {
      expect(await protocolErrorOf(await post('/v2/models/mnist/infer', body))).toEqual({ status: 422, code: 'invalid_body', message: expect.any(String) });
    }
    expect(gateway.calls).toEqual([]);
  });

  const refusals: [string, unknown, number, string, string | null][] = [
    ['starting or stopping', new Unavailable('the service is starting or shutting down'), 503, 'unavailable', '1'],
    ['no answer in time', new TimedOut('no answer within 10000 ms'), 504, 'timeout', null],
    ['a reply without this answer', new NoAnswer('the reply has no answer for request x'), 500, 'no_answer', null],
    ['anything else', new Error('disk on fire'), 500, 'internal', null],
  ];
  test.each(refusals)('an actor error (%s) becomes its status and code, and is counted', async (_name, failure, status, code, retryAfter) => {
    const { post, gateway, metrics } = await appWith();
    gateway.failure = failure;
    expect(await errorOf(await post('/api/predict', pixels()))).toEqual({ status, code, retryAfter });
    expect(await metrics.registry.getSingleMetricAsString('stratus_http_errors_total')).toContain(`status="${status}",code="${code}"} 1`);
    // The next request is unaffected.
    gateway.failure = null;
    expect((await post('/api/predict', pixels())).status).toBe(200);
  });

  test('bad bodies are refused before the gateway sees them', async () => {
    const { post, call, gateway } = await appWith();
    expect((await errorOf(await post('/api/predict', '{"pixels": [0.1'))).code).toBe('malformed_json');
    expect((await errorOf(await post('/api/predict', { pixels: [0.1] }))).code).toBe('invalid_body');
    expect((await errorOf(await post('/api/predict', { ...pixels(), drawing: {} }))).code).toBe('invalid_body');
    expect((await errorOf(await post('/api/predict', { drawing: { width: 10, height: 10, strokes: [] } }))).code).toBe('invalid_drawing');
    expect((await errorOf(await call('/api/predict', { method: 'POST', body: '{}', headers: { 'content-type': 'text/plain' } }))).status).toBe(415);
    // Bytes, not a string: fetch would name a string body text/plain. Only the Open Inference Protocol's
    // routes read a body with no Content-Type as JSON (Triton's client sends none).
    const untyped = (body: unknown) => ({ method: 'POST', body: new TextEncoder().encode(JSON.stringify(body)) });
    expect(new Request('http://stratus.test/', untyped({})).headers.get('content-type')).toBeNull();
    expect((await errorOf(await call('/api/predict', untyped(pixels())))).status).toBe(415);
    expect(gateway.calls).toEqual([]);
    const infer = { inputs: [{ name: 'image', shape: [1, PIXELS], datatype: 'FP32', data: new Array(PIXELS).fill(0) }] };
    expect((await call('/v2/models/mnist/infer', untyped(infer))).status).toBe(200);
    expect((await errorOf(await post('/api/predict', 'x'.repeat(64 * 1024 + 1)))).status).toBe(413);
  });

  test('a cross-site POST is refused before anything else', async () => {
    const { post, gateway } = await appWith();
    const response = await post('/api/predict', pixels(), { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(response.status).toBe(403);
    expect(gateway.calls).toEqual([]);
  });

  test('readiness says why it is not ready; liveness does not care', async () => {
    const { call } = await appWith({ notReady: ['transport kafka is down'] });
    const ready = await call('/v2/health/ready');
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ ready: false, reasons: ['transport kafka is down'] });
    expect((await call('/v2/health/live')).status).toBe(200);
  });

  test('model metadata names the serving model, or 503 before any consumer spoke', async () => {
    const { call, gateway } = await appWith();
    const meta = (await (await call('/v2/models/mnist')).json()) as { serving: string; versions: string[] };
    expect(meta.serving).toBe('fake-1');
    expect(meta.versions).toEqual(['fake-1']);
    gateway.modelVersion = null;
    const unserved = await call('/v2/models/mnist');
    expect([unserved.status, unserved.headers.get('retry-after'), unserved.headers.get('stratus-error-code')]).toEqual([503, '1', 'no_model']);
    // The Open Inference Protocol's error shape on its routes; the app's own {"error": {"code", "message"}} elsewhere.
    expect(await unserved.json()).toEqual({ error: expect.stringContaining('model') });
  });

  test('a single prediction takes at most 512 KiB, whatever --max-body-bytes allows the batched KServe route', async () => {
    const { post, gateway } = await appWith({ maxBodyBytes: 4 << 20 });
    const padded = JSON.stringify(pixels()).replace('{', `{${' '.repeat(MAX_PAGE_BODY_BYTES)}`);
    const single = await post('/api/predict', padded);
    expect(await errorOf(single)).toEqual({ status: 413, code: 'body_too_large', retryAfter: null });
    const page = await post(PREDICT_PATH, padded);
    expect(page.status).toBe(413);
    expect(gateway.calls).toEqual([]);
    // 400 images in one KServe request: 1.3 MB, within the 4 MiB it allows.
    const images = 400;
    const infer = await post('/v2/models/mnist/infer', { inputs: [{ name: 'pixels', shape: [images, PIXELS], datatype: 'FP32', data: new Array(images * PIXELS).fill(0.5) }] });
    expect(infer.status).toBe(200);
    expect(gateway.calls.map((call) => call.count)).toEqual([images]);
  });

  test('a chunked body is held to the limit as it arrives: 413, and the gateway never sees it', async () => {
    const { call, gateway } = await appWith();
    const chunk = new TextEncoder().encode(' '.repeat(16 * 1024));
    let sent = 0;
    // No content-length: the body comes as a stream, 16 KiB at a time, 128 KiB in all (the limit is 64 KiB).
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent++ < 8) controller.enqueue(chunk);
        else controller.close();
      },
    });
    const response = await call('/api/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit);
    expect(await errorOf(response)).toEqual({ status: 413, code: 'body_too_large', retryAfter: null });
    expect(sent).toBeLessThan(8);
    expect(gateway.calls).toEqual([]);
    // A chunked body within the limit is read as usual.
    const small = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(JSON.stringify(pixels())));
        controller.close();
      },
    });
    expect((await call('/api/predict', { method: 'POST', headers: { 'content-type': 'application/json' }, body: small, duplex: 'half' } as RequestInit)).status).toBe(200);
  });

  test('a known path with the wrong method is a 405 naming the methods it takes', async () => {
    const { call } = await appWith();
    const wrong = await call('/api/predict');
    expect(await errorOf(wrong)).toEqual({ status: 405, code: 'method_not_allowed', retryAfter: null });
    expect(wrong.headers.get('allow')).toBe('POST');
    expect((await call('/api/models/v1/serve')).status).toBe(405);
    const refused = await call('/v2/health/live', { method: 'DELETE' });
    expect(refused.status).toBe(405);
    expect(await refused.json()).toEqual({ error: expect.any(String) });
    expect((await errorOf(await call('/no/such/path'))).status).toBe(404);
  });

  test('KServe v2 server metadata and model readiness', async () => {
    const { call, gateway } = await appWith();
    const server = (await (await call('/v2')).json()) as { name: string; version: string; extensions: string[] };
    expect(server).toEqual({ name: 'stratus', version: expect.stringMatching(/^\d+\.\d+\.\d+/), extensions: [] });
    const ready = await call('/v2/models/mnist/ready');
    expect([ready.status, await ready.json()]).toEqual([200, { name: 'mnist', ready: true }]);
    gateway.modelVersion = null;
    const notYet = await call('/v2/models/mnist/ready');
    expect([notYet.status, await notYet.json()]).toEqual([503, { name: 'mnist', ready: false }]);
  });

  test('/docs/json is valid OpenAPI 3.1, and every operation documents its answer and its errors', async () => {
    const { call } = await appWith();
    const spec = (await (await call('/docs/json')).json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, { description: string }> }>> };
    expect(spec.openapi).toStartWith('3.1');
    expect(await new Validator().validate(spec as never)).toEqual({ valid: true });
    const operations = Object.entries(spec.paths).flatMap(([path, methods]) => Object.entries(methods).map(([method, operation]) => ({ name: `${method} ${path}`, statuses: Object.keys(operation.responses) })));
    expect(operations.length).toBeGreaterThanOrEqual(10);
    for (const { name, statuses } of operations) {
      expect({ name, success: statuses.some((status) => status.startsWith('2')) }).toEqual({ name, success: true });
      expect({ name, errors: statuses.filter((status) => /^[45]/.test(status)).length > 0 }).toEqual({ name, errors: true });
    }
    const predict = spec.paths['/api/predict']!.post!.responses;
    expect(Object.keys(predict).sort()).toEqual(['200', '400', '405', '408', '413', '415', '422', '429', '500', '503', '504']);
    for (const path of ['/api/predict', '/v2/models/mnist/infer']) {
      const parameters = (spec.paths[path]!.post as unknown as { parameters: { name: string; in: string }[] }).parameters;
      expect(parameters).toContainEqual(expect.objectContaining({ name: 'idempotency-key', in: 'header' }));
    }
    // Errors in the app's shape, and on the KServe v2 routes in the Open Inference Protocol's.
    const errorSchema = (path: string, status: string) =>
      (spec.paths[path]!.post!.responses[status] as unknown as { content: Record<string, { schema: { properties: { error: { type: string } } } }> }).content['application/json']!.schema.properties.error.type;
    expect([errorSchema('/api/predict', '422'), errorSchema('/v2/models/mnist/infer', '422')]).toEqual(['object', 'string']);
    // The protocol's optional fields, as the schema takes them.
    const inferSchema = (spec.paths['/v2/models/mnist/infer']!.post as unknown as { requestBody: { content: Record<string, { schema: { properties: Record<string, { items?: { properties: Record<string, unknown> } }> } }> } }).requestBody.content['application/json']!.schema;
    expect(Object.keys(inferSchema.properties).sort()).toEqual(['id', 'inputs', 'outputs', 'parameters']);
    expect(Object.keys(inferSchema.properties.inputs!.items!.properties).sort()).toEqual(['data', 'datatype', 'name', 'parameters', 'shape']);
    expect(Object.keys(inferSchema.properties.outputs!.items!.properties).sort()).toEqual(['name', 'parameters']);
    expect(spec.paths['/v2/models/mnist/infer']!.post!.responses['400']!.description).toContain('unknown_output');
    // No string spelling of an integer with a numeric default: what a field is, it is once.
    expect(JSON.stringify(spec)).not.toContain('"format":"integer"');
  });

  test('/docs is the same reference rendered for a person: every operation, its body fields and its answers', async () => {
    const { call } = await appWith();
    const page = await call('/docs');
    expect(page.headers.get('content-type')).toStartWith('text/html');
    const html = await page.text();
    for (const operation of ['POST /api/predict', 'POST /v2/models/mnist/infer', 'GET /v2/models/mnist', 'POST /api/models', 'GET /v2/health/ready']) {
      expect(html).toContain(`<code>${operation}</code>`);
    }
    expect(html).toContain('<code>pixels</code>');
    expect(html).toContain('<h3>Headers</h3>');
    expect(html).toContain('<code>idempotency-key</code>');
    expect(html).toContain('array of number, in 0..1, 784 items');
    expect(html).toContain('body_too_large');
    expect(html).not.toMatch(/<script/);
  });

  test('a field the schema does not name is refused, not quietly dropped', async () => {
    const { post, gateway } = await appWith();
    const refused = await post('/api/predict', { ...pixels(), foo: 1 });
    expect(await errorOf(refused)).toEqual({ status: 422, code: 'invalid_body', retryAfter: null });
    expect(gateway.calls).toEqual([]);
  });

  test('/docs/json advertises JSON bodies only, the one type the app takes', async () => {
    const { call } = await appWith();
    const docs = (await (await call('/docs/json')).json()) as { paths: Record<string, Record<string, { requestBody?: { content: Record<string, unknown> } }>> };
    const bodies = Object.entries(docs.paths).flatMap(([path, operations]) =>
      Object.entries(operations).flatMap(([method, operation]) => (operation.requestBody ? [[`${method} ${path}`, Object.keys(operation.requestBody.content)]] : [])),
    );
    expect(bodies.map(([operation]) => operation)).toEqual(expect.arrayContaining(['post /api/predict', 'post /v2/models/mnist/infer', 'post /api/models']));
    for (const [, types] of bodies) expect(types).toEqual(['application/json']);
  });

  test("publishing answers how it went, as the consumers tell it: serving, or refused with their reason; the dashboard says the same", async () => {
    const { post, call, gateway, transport, logLines } = await appWith({ adminToken: 'admin-secret' });
    // The consumers, played: told to serve a version, they serve it, unless its name says it is broken and
    // this is the first time they are asked (a failure that a second try gets past).
    const asked = new Set<string>();
    await transport.subscribe(TOPIC.modelUpdated, { group: 'played-consumers' }, async (message) => {
      const { version } = decodeJson<ModelUpdated>(message.value);
      if (version.startsWith('broken') && !asked.has(version)) gateway.refusals.set(version, { version, outcome: 'smoke_failed', reason: 'it read 12 % of the smoke digits' });
      else gateway.modelVersion = version;
      asked.add(version);
    });
    const auth = { authorization: 'Bearer admin-secret' };
    const { modelJson, weightsBin } = tinyModel();
    const publish = (version: string) => post('/api/models', { version, modelJson, weightsBase64: Buffer.from(weightsBin).toString('base64') }, auth);
    const good = await publish('good-1');
    expect([good.status, await good.json()]).toEqual([201, { version: 'good-1', state: 'serving' }]);
    const broken = await publish('broken-1');
    expect([broken.status, await broken.json()]).toEqual([201, { version: 'broken-1', state: 'refused', reason: 'smoke_failed: it read 12 % of the smoke digits' }]);

    const registry = (await (await call('/api/models')).json()) as { serving: string; selected: string; versions: { version: string; state: string; reason?: string }[] };
    expect(registry).toMatchObject({ serving: 'good-1', selected: 'broken-1' });
    expect(registry.versions.map(({ version, state }) => [version, state])).toEqual([
      ['broken-1', 'refused'],
      ['good-1', 'serving'],
    ]);
    const html = await (await call('/models')).text();
    expect(html).toContain('id="serving">Serving: <strong>good-1</strong> (broken-1 was chosen and refused: smoke_failed: it read 12 % of the smoke digits)');
    expect(html).toMatch(/<tr data-version="broken-1" data-state="refused">.*badge refused.*Promote broken-1/);
    expect(html).toMatch(/<tr data-version="good-1" data-state="serving" class="serving">.*serving<\/span>/);
    expect(html.match(/class="badge">serving</g)).toHaveLength(1);

    // Asked for again, a refused version is tried again: the old refusal does not answer for it.
    const retried = await post('/api/models/broken-1/serve', {}, auth);
    expect([retried.status, await retried.json()]).toEqual([202, { version: 'broken-1', state: 'serving' }]);
    const back = await post('/api/models/good-1/serve', {}, auth);
    expect([back.status, await back.json()]).toEqual([202, { version: 'good-1', state: 'serving' }]);

    // Each action has its audit line: what, which version, how it ended, from where; never the token.
    const audit = logLines.filter((line) => line.audit).map((line) => line.audit);
    expect(audit).toEqual([
      { action: 'publish', client: 'unknown', version: 'good-1', state: 'serving' },
      { action: 'publish', client: 'unknown', version: 'broken-1', state: 'refused' },
      { action: 'serve', client: 'unknown', version: 'broken-1', state: 'serving' },
      { action: 'serve', client: 'unknown', version: 'good-1', state: 'serving' },
    ]);
    expect(JSON.stringify(logLines)).not.toContain('admin-secret');
  });

  test("a version is stored with the model.onnx the registry exports from its files, never an uploaded graph", async () => {
    const { post, gateway, transport, store } = await appWith({ adminToken: 'admin-secret' });
    // The consumers, played: every version they are told to serve, they serve (no 10 s wait for "loading").
    await transport.subscribe(TOPIC.modelUpdated, { group: 'played-consumers' }, async (message) => {
      gateway.modelVersion = decodeJson<ModelUpdated>(message.value).version;
    });
    const { modelJson, weightsBin } = tinyModel();
    const uploadedOnnx = new Uint8Array(Array.from({ length: 5000 }, (_, i) => (i * 7 + 3) % 256));
    const body = { modelJson, weightsBase64: Buffer.from(weightsBin).toString('base64') };
    const auth = { authorization: 'Bearer admin-secret' };
    const withOnnx = await post('/api/models', { version: 'with-onnx', ...body, onnxBase64: Buffer.from(uploadedOnnx).toString('base64') }, auth);
    expect([withOnnx.status, await withOnnx.json()]).toEqual([201, { version: 'with-onnx', state: 'serving' }]);
    const without = await post('/api/models', { version: 'without-onnx', ...body }, auth);
    expect(without.status).toBe(201);

    for (const version of ['with-onnx', 'without-onnx']) {
      const stored = await store.loadModel(version);
      const exported = exportToOnnx({ version, modelJson: new TextEncoder().encode(JSON.stringify(modelJson)), weightsBin }).bytes;
      expect(stored?.modelOnnx && Buffer.from(stored.modelOnnx).equals(Buffer.from(exported))).toBe(true);
      expect(stored && Buffer.from(stored.weightsBin).equals(weightsBin)).toBe(true);
    }
  });

  test('a model declaring shapes its weights do not hold is refused with 422 before it is stored or announced', async () => {
    const { post, transport, store } = await appWith({ adminToken: 'admin-secret' });
    const announced: string[] = [];
    await transport.subscribe(TOPIC.modelUpdated, { group: 'watching' }, async (message) => {
      announced.push(decodeJson<ModelUpdated>(message.value).version);
    });
    const { modelJson, weightsBin } = tinyModel();
    const layers = (modelJson.modelTopology as { config: { layers: { config: Record<string, unknown> }[] } }).config.layers;
    layers[0]!.config.units = 2_000_000_000;
    const response = await post('/api/models', { version: 'huge', modelJson, weightsBase64: Buffer.from(weightsBin).toString('base64') }, { authorization: 'Bearer admin-secret' });
    expect([response.status, await response.json()]).toEqual([
      422,
      { error: { code: 'model_refused', message: 'layer dense (Dense): weight dense/kernel has shape [784,10], expected [784,2000000000]' } },
    ]);
    expect(await store.listModels()).toEqual([]);
    // Nothing was announced: a message would have had to overtake this one, sent after the refusal.
    await transport.publish(TOPIC.modelUpdated, { key: 'serving', value: encodeJson({ version: 'marker' }) });
    await waitFor(() => announced.length > 0, 5_000, 10);
    expect(announced).toEqual(['marker']);
  });

  test('a bad onnxBase64 is refused with 422 and nothing is stored: not base64, empty, not a string, or far larger than the weights', async () => {
    const { post, store } = await appWith({ adminToken: 'admin-secret', maxBodyBytes: 4 * 1024 * 1024 });
    const auth = { authorization: 'Bearer admin-secret' };
    const body = { modelJson: { modelTopology: {}, weightsManifest: [{}] }, weightsBase64: 'AAAA' };
    const tooLarge = Buffer.alloc(3 + 1024 * 1024 + 1).toString('base64');
    const cases: [unknown, string][] = [
      ['AA==AA==', 'onnxBase64 is not base64'],
      ['AAA-', 'onnxBase64 is not base64'],
      ['AAAAA', 'onnxBase64 is not base64'],
      ['', ''],
      [123, ''],
      [tooLarge, `onnxBase64 holds ${3 + 1024 * 1024 + 1} bytes, more than weights.bin (3) and 1 MiB of graph`],
    ];
    for (const [i, [onnxBase64, message]] of cases.entries()) {
      const response = await post('/api/models', { version: `bad-onnx-${i}`, ...body, onnxBase64 }, auth);
      const answer = (await response.json()) as { error: { code: string; message: string } };
      expect([response.status, answer.error.code]).toEqual([422, 'invalid_body']);
      expect(answer.error.message).toContain(message);
    }
    expect(await store.listModels()).toEqual([]);
  });

  test('a client that keeps sending wrong admin tokens is refused for a while (429), the right token included; each refusal is logged', async () => {
    const { post, logLines } = await appWith({ adminToken: 'admin-secret' });
    const serve = (token: string) => post('/api/models/v1/serve', {}, { authorization: `Bearer ${token}` });
    for (let i = 0; i < FAILED_LOGINS.burst; i++) expect((await errorOf(await serve(`guess-${i}`))).status).toBe(401);
    const locked = await errorOf(await serve('admin-secret'));
    expect(locked).toMatchObject({ status: 429, code: 'too_many_failures' });
    expect(Number(locked.retryAfter)).toBeGreaterThan(0);
    const refusals = logLines.filter((line) => (line.audit as { action?: string } | undefined)?.action === 'login');
    expect(refusals).toHaveLength(FAILED_LOGINS.burst);
    expect(JSON.stringify(logLines)).not.toMatch(/guess-|admin-secret/);
  });

  test('admin endpoints are off without a configured token', async () => {
    const { post } = await appWith();
    expect((await errorOf(await post('/api/models/any/serve', {}))).code).toBe('admin_disabled');
  });
});
