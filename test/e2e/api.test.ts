// The prediction API from outside, once per transport (deployments.ts): real model, real HTTP, the
// local mode in this process and the cluster mode as separate processes on Kafka and CouchDB.
import { describe, expect, test } from 'bun:test';
import { loadSplit, type MnistSplit } from '../../src/train/mnist.ts';
import { segmentDrawing } from '../../src/preprocess/segment.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { postJson } from '../helpers/local-stratus.ts';
import { composeNumber, loadHeldOutPendigits, seededRandom } from '../helpers/pendigits.ts';
import { describeEachTransport, storedResult } from './deployments.ts';

const PIXELS = 784;
const mnist = loadSplit(MNIST_DIR, 'test');
const image = (split: MnistSplit, i: number) => Array.from(split.images.subarray(i * PIXELS, (i + 1) * PIXELS));

/** Two-digit numbers of held-out writers, written into each other so far that geometry alone finds one piece. */
function overlappingPairs(count: number) {
  const digits = loadHeldOutPendigits();
  const random = seededRandom(11);
  const pairs: ReturnType<typeof composeNumber>[] = [];
  while (pairs.length < count) {
    const pair = composeNumber([0, 1].map(() => digits[Math.floor(random() * digits.length)]!), random, [-0.15, -0.05]);
    if (segmentDrawing(pair.drawing).length === 1) pairs.push(pair);
  }
  return pairs;
}

await describeEachTransport('prediction API', ['--max-body-bytes', String(1 << 20)], (deployment) => {
  test('POST /api/predict reads real MNIST test digits correctly', async () => {
    const count = 200;
    let correct = 0;
    for (let i = 0; i < count; i++) {
      const response = await postJson(`${deployment().url}/api/predict`, { pixels: image(mnist, i) });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { digit: number; probabilities: number[]; id: string; model: { version: string } };
      expect(answer.probabilities).toHaveLength(10);
      expect(answer.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 3);
      expect(answer.digit).toBe(answer.probabilities.indexOf(Math.max(...answer.probabilities)));
      if (answer.digit === mnist.labels[i]) correct++;
    }
    expect(correct / count).toBeGreaterThanOrEqual(0.97);
  });

  test('digits written into each other are read whole: the consumer keeps the split its model is surest of', async () => {
    // Without the choice, no number here could be read right: the gateway's own split finds one digit.
    const pairs = overlappingPairs(20);
    const answers: { id: string; number: string; expected: string }[] = [];
    for (const { drawing, labels } of pairs) {
      const response = await postJson(`${deployment().url}/api/predict`, { drawing });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { id: string; number: string };
      answers.push({ ...answer, expected: labels.join('') });
    }
    const whole = answers.filter((answer) => answer.number === answer.expected);
    // 17 of 20 with the embedded model.
    expect(whole.length).toBeGreaterThanOrEqual(14);
    // The stored result is the reading kept, and says which alternative won.
    const stored = await storedResult(deployment(), whole[0]!.id);
    expect(stored?.digits.join('')).toBe(whole[0]!.expected);
    expect(stored?.probabilities).toHaveLength(2);
    expect(stored?.split?.taken).toHaveLength(1);
    expect(stored?.split?.alternatives).toBeGreaterThanOrEqual(1);
  });

  test('each answer is stored under its request id', async () => {
    const response = await postJson(`${deployment().url}/api/predict`, { pixels: image(mnist, 7) });
    const answer = (await response.json()) as { id: string; digit: number; model: { version: string } };
    const stored = await storedResult(deployment(), answer.id);
    expect(stored?.digits).toEqual([answer.digit]);
    expect(stored?.modelVersion).toBe(answer.model.version);
  });

  test('a request sent again with the same Idempotency-Key gets the first answer, stored once', async () => {
    const key = `retry-${crypto.randomUUID()}`;
    const send = (i: number, idempotencyKey = key) => postJson(`${deployment().url}/api/predict`, { pixels: image(mnist, i) }, { 'idempotency-key': idempotencyKey });
    const first = await send(11);
    expect(first.status).toBe(200);
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    const answer = (await first.json()) as { id: string; digit: number; probabilities: number[]; model: { version: string } };
    expect(await storedResult(deployment(), answer.id)).not.toBeNull();

    const replays = () => deployment().metrics().then((text) => Number(text.match(/^stratus_idempotent_replays_total (\d+)/m)?.[1] ?? 0));
    const replaysBefore = await replays();
    const again = await send(11);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(await again.json()).toEqual(answer);
    expect(await replays()).toBe(replaysBefore + 1);
    // The key names the request with its image: another image under the same key is another request.
    const other = (await (await send(12)).json()) as { id: string };
    expect(other.id).not.toBe(answer.id);
    // KServe's endpoint takes the header too.
    const infer = (k: string) =>
      postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [2, PIXELS], datatype: 'FP32', data: [...image(mnist, 3), ...image(mnist, 4)] }] }, { 'idempotency-key': k });
    const inferKey = `infer-${crypto.randomUUID()}`;
    const inferred = (await (await infer(inferKey)).json()) as { id: string; outputs: unknown };
    await storedResult(deployment(), inferred.id);
    const reinferred = await infer(inferKey);
    expect(reinferred.headers.get('idempotent-replayed')).toBe('true');
    expect(await reinferred.json()).toEqual(inferred);
  });

  test('KServe v2 infer answers a batch with [N,10] probabilities and the argmax', async () => {
    const n = 32;
    const data = Array.from(mnist.images.subarray(0, n * PIXELS));
    const response = await postJson(`${deployment().url}/v2/models/mnist/infer`, {
      id: 'batch-1',
      inputs: [{ name: 'image', shape: [n, PIXELS], datatype: 'FP32', data }],
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as { id: string; model_name: string; outputs: { name: string; shape: number[]; data: number[] }[] };
    expect(body.id).toBe('batch-1');
    expect(body.model_name).toBe('mnist');
    const probabilities = body.outputs.find((o) => o.name === 'probabilities')!;
    const digits = body.outputs.find((o) => o.name === 'digit')!;
    expect(probabilities.shape).toEqual([n, 10]);
    expect(probabilities.data).toHaveLength(n * 10);
    expect(digits.shape).toEqual([n]);
    const correct = digits.data.filter((d, i) => d === mnist.labels[i]).length;
    expect(correct).toBeGreaterThanOrEqual(n - 1);
  });

  test('model metadata names the version that answers', async () => {
    const meta = (await (await fetch(`${deployment().url}/v2/models/mnist`)).json()) as { name: string; versions: string[] };
    const answer = (await (await postJson(`${deployment().url}/api/predict`, { pixels: image(mnist, 1) })).json()) as { model: { version: string } };
    expect(meta.name).toBe('mnist');
    expect(meta.versions).toEqual([answer.model.version]);
  });

  test('health, metrics and docs answer', async () => {
    expect((await fetch(`${deployment().url}/v2/health/live`)).status).toBe(200);
    expect(await (await fetch(`${deployment().url}/v2/health/ready`)).json()).toEqual({ ready: true });
    const metrics = await deployment().metrics();
    for (const stage of ['queue_wait', 'inference', 'total']) expect(metrics).toContain(`stage="${stage}"`);
    expect(metrics).toContain('stratus_batch_size_bucket');
    expect(metrics).toContain('stratus_in_flight_requests');
    const docs = (await (await fetch(`${deployment().url}/docs/json`)).json()) as { openapi: string; paths: Record<string, unknown> };
    expect(docs.openapi).toMatch(/^3\./);
    expect(Object.keys(docs.paths)).toEqual(expect.arrayContaining(['/api/predict', '/v2/models/mnist/infer', '/v2/health/ready']));
  });

  describe('bad input gets a short JSON error and loses nothing', () => {
    const valid = () => ({ pixels: new Array(PIXELS).fill(0.5) });
    const cases: [string, () => Promise<Response>, number, string][] = [
      ['malformed JSON', () => postJson(`${deployment().url}/api/predict`, '{"pixels": [0.1, 0.2'), 400, 'malformed_json'],
      ['NaN literal', () => postJson(`${deployment().url}/api/predict`, `{"pixels": [NaN${',0'.repeat(783)}]}`), 400, 'malformed_json'],
      ['too few pixels', () => postJson(`${deployment().url}/api/predict`, { pixels: [0.1, 0.2] }), 422, 'invalid_body'],
      ['too many pixels', () => postJson(`${deployment().url}/api/predict`, { pixels: new Array(785).fill(0) }), 422, 'invalid_body'],
      ['value above 1', () => postJson(`${deployment().url}/api/predict`, { pixels: [...valid().pixels.slice(1), 255] }), 422, 'invalid_body'],
      ['negative value', () => postJson(`${deployment().url}/api/predict`, { pixels: [-0.123456, ...valid().pixels.slice(1)] }), 422, 'invalid_body'],
      ['string value', () => postJson(`${deployment().url}/api/predict`, { pixels: ['0.5', ...valid().pixels.slice(1)] }), 422, 'invalid_body'],
      ['missing field', () => postJson(`${deployment().url}/api/predict`, { image: valid().pixels }), 422, 'invalid_body'],
      ['wrong content type', () => fetch(`${deployment().url}/api/predict`, { method: 'POST', body: JSON.stringify(valid()), headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
      ['body too large', () => postJson(`${deployment().url}/api/predict`, 'x'.repeat((1 << 20) + 1)), 413, 'body_too_large'],
      ['KServe wrong width', () => postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [1, 783], datatype: 'FP32', data: new Array(783).fill(0) }] }), 422, 'bad_shape'],
      ['KServe data/shape mismatch', () => postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [2, 784], datatype: 'FP32', data: new Array(784).fill(0) }] }), 422, 'bad_shape'],
      ['KServe N over 1024', () => postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [1025, 784], datatype: 'FP32', data: [] }] }), 422, 'bad_shape'],
      ['KServe wrong datatype', () => postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [1, 784], datatype: 'INT8', data: new Array(784).fill(0) }] }), 422, 'invalid_body'],
      ['unknown route', () => fetch(`${deployment().url}/api/nothing-here`), 404, 'not_found'],
      ['Idempotency-Key too long', () => postJson(`${deployment().url}/api/predict`, valid(), { 'idempotency-key': 'k'.repeat(256) }), 400, 'invalid_idempotency_key'],
      ['Idempotency-Key with a space', () => postJson(`${deployment().url}/v2/models/mnist/infer`, { inputs: [{ name: 'i', shape: [1, 784], datatype: 'FP32', data: valid().pixels }] }, { 'idempotency-key': 'a b' }), 400, 'invalid_idempotency_key'],
    ];
    test.each(cases)('%s', async (_name, send, status, code) => {
      const response = await send();
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/json');
      const text = await response.text();
      expect(text.length).toBeLessThan(300);
      expect(text).not.toContain('0.123456');
      if (new URL(response.url).pathname.startsWith('/v2/')) {
        // The Open Inference Protocol's shape on its own routes: {"error": "<message>"}, no code.
        const body = JSON.parse(text) as { error: string };
        expect(Object.keys(body)).toEqual(['error']);
        expect(body.error).toBeString();
        expect(body.error.length).toBeGreaterThan(0);
        expect(response.headers.get('stratus-error-code')).toBe(code);
      } else {
        const body = JSON.parse(text) as { error: { code: string; message: string } };
        expect(body.error.code).toBe(code);
        expect(body.error.message.length).toBeGreaterThan(0);
      }
      // The same process still answers a good request.
      expect((await postJson(`${deployment().url}/api/predict`, valid())).status).toBe(200);
    });
  });
});

