// The values /metrics reports after known traffic, not just the names: local mode with real MNIST digits,
// every counter read before and after, so each delta is exact whatever ran before in the process.
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { join } from 'node:path';
import { loadSplit } from '../../src/train/mnist.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { sampleOf } from '../helpers/metrics-text.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';
import { REPO } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const PIXELS = 784;
const mnist = loadSplit(MNIST_DIR, 'test');
const images = (from: number, count: number) => Array.from(mnist.images.subarray(from * PIXELS, (from + count) * PIXELS));

// A consumer batch waits this long for company: long enough that a burst of concurrent requests shares
// model calls (the store stage is then observed for batches of several results), short enough that the
// requests sent one at a time cost little.
const LINGER_MS = 100;

let stratus: Awaited<ReturnType<typeof startLocal>>;
beforeAll(async () => {
  stratus = await startLocal(['--max-wait-ms', String(LINGER_MS)]);
});
afterAll(() => stratus?.stop());

const scrape = async () => (await fetch(`${stratus.url}/metrics`)).text();

/** Every series of the scrape that starts with `prefix`, summed (the error counter's labelled series, say). */
function sumOf(metrics: string, prefix: string): number {
  return metrics
    .split('\n')
    .filter((line) => line.startsWith(prefix))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

/** The samples this suite checks, from one scrape. */
function figures(metrics: string) {
  const stage = (name: string) => sampleOf(metrics, `stratus_stage_duration_seconds_count{stage="${name}"}`);
  return {
    predictions: sampleOf(metrics, 'stratus_predictions_total'),
    messages: sampleOf(metrics, 'stratus_requests_per_message_count'),
    requestsSent: sampleOf(metrics, 'stratus_requests_per_message_sum'),
    messagesOfOne: sampleOf(metrics, 'stratus_requests_per_message_bucket{le="1"}'),
    messagesAnySize: sampleOf(metrics, 'stratus_requests_per_message_bucket{le="+Inf"}'),
    modelCalls: sampleOf(metrics, 'stratus_batch_size_count'),
    imagesInCalls: sampleOf(metrics, 'stratus_batch_size_sum'),
    queueWait: stage('queue_wait'),
    inference: stage('inference'),
    store: stage('store'),
    total: stage('total'),
    errors: sumOf(metrics, 'stratus_http_errors_total{'),
    inFlight: sampleOf(metrics, 'stratus_in_flight_requests'),
  };
}
type Figures = ReturnType<typeof figures>;
const delta = (after: Figures, before: Figures) =>
  Object.fromEntries(Object.keys(after).map((key) => [key, after[key as keyof Figures] - before[key as keyof Figures]])) as Figures;

const predict = (i: number) => postJson(`${stratus.url}/api/predict`, { pixels: images(i, 1) });
const infer = (from: number, n: number) =>
  postJson(`${stratus.url}/v2/models/mnist/infer`, { inputs: [{ name: 'image', shape: [n, PIXELS], datatype: 'FP32', data: images(from, n) }] });

test('known traffic, one request at a time: exact deltas of predictions, errors, requests per message and every stage', async () => {
  const before = figures(await scrape());
  const errorSeries = (metrics: string) => ({
    invalidBody: sampleOf(metrics, 'stratus_http_errors_total{status="422",code="invalid_body"}'),
    malformed: sampleOf(metrics, 'stratus_http_errors_total{status="400",code="malformed_json"}'),
    badShape: sampleOf(metrics, 'stratus_http_errors_total{status="422",code="bad_shape"}'),
    notFound: sampleOf(metrics, 'stratus_http_errors_total{status="404",code="not_found"}'),
  });
  const errorsBefore = errorSeries(await scrape());

  // 3 images through /api/predict and 2 + 3 through KServe: 5 requests, 8 images. One at a time, so each
  // request leaves the gateway alone, in a message of its own, and is a model call of its own.
  const answers: { digit?: number; outputs?: { name: string; data: number[] }[] }[] = [];
  for (const response of [await predict(0), await predict(1), await predict(2), await infer(3, 2), await infer(5, 3)]) {
    expect(response.status).toBe(200);
    answers.push((await response.json()) as (typeof answers)[number]);
  }
  // Real digits, read right: the traffic is what a user sends, not zeros.
  const read = [...answers.slice(0, 3).map((a) => a.digit), ...answers.slice(3).flatMap((a) => a.outputs?.find((o) => o.name === 'digit')?.data ?? [])];
  expect(read).toEqual(Array.from(mnist.labels.subarray(0, 8)));

  // Refused before the gateway sees them: counted as errors by status and code, never as predictions.
  const refused = await Promise.all([
    postJson(`${stratus.url}/api/predict`, { pixels: [0.1] }),
    postJson(`${stratus.url}/api/predict`, { pixels: images(0, 1).slice(1) }),
    postJson(`${stratus.url}/api/predict`, '{"pixels": [0.1'),
    postJson(`${stratus.url}/v2/models/mnist/infer`, { inputs: [{ name: 'image', shape: [1, 783], datatype: 'FP32', data: new Array(783).fill(0) }] }),
    fetch(`${stratus.url}/api/nothing-here`),
  ]);
  expect(refused.map((r) => r.status)).toEqual([422, 422, 400, 422, 404]);

  // The store stage is observed once a result is stored, which may be just after the answer went out.
  await waitFor(async () => figures(await scrape()).store - before.store >= 5, 3_000);
  const after = await scrape();
  expect(delta(figures(after), before)).toEqual({
    predictions: 8,
    messages: 5,
    requestsSent: 5,
    messagesOfOne: 5,
    messagesAnySize: 5,
    modelCalls: 5,
    imagesInCalls: 8,
    queueWait: 5,
    inference: 5,
    store: 5,
    total: 5,
    errors: 5,
    inFlight: 0,
  });
  const errorsAfter = errorSeries(after);
  expect({
    invalidBody: errorsAfter.invalidBody - errorsBefore.invalidBody,
    malformed: errorsAfter.malformed - errorsBefore.malformed,
    badShape: errorsAfter.badShape - errorsBefore.badShape,
    notFound: errorsAfter.notFound - errorsBefore.notFound,
  }).toEqual({ invalidBody: 2, malformed: 1, badShape: 1, notFound: 1 });
});

test('a burst of concurrent requests: batched, yet every request, image and stored result is counted once', async () => {
  const before = figures(await scrape());
  const burst = 16;
  const responses = await Promise.all(Array.from({ length: burst }, (_, i) => predict(10 + i)));
  expect(responses.map((r) => r.status)).toEqual(new Array(burst).fill(200));
  const digits = await Promise.all(responses.map(async (r) => ((await r.json()) as { digit: number }).digit));
  expect(digits.filter((digit, i) => digit === mnist.labels[10 + i]).length).toBeGreaterThanOrEqual(burst - 1);

  await waitFor(async () => figures(await scrape()).store - before.store >= burst, 3_000);
  const { modelCalls, messages, messagesOfOne, messagesAnySize, ...perRequest } = delta(figures(await scrape()), before);
  // The burst shared model calls: the consumer waited LINGER_MS for company (fewer calls than images).
  expect(modelCalls).toBeGreaterThanOrEqual(1);
  expect(modelCalls).toBeLessThan(burst);
  // However the gateway grouped the requests into messages, the messages carried each exactly once.
  expect(messages).toBeGreaterThanOrEqual(1);
  expect(messages).toBeLessThanOrEqual(burst);
  expect(messagesAnySize).toBe(messages);
  expect(messagesOfOne).toBeLessThanOrEqual(messages);
  // Per image, per request and per stored result, whatever the batches were: the store stage too, once
  // per result (a batch of several results is several predictions that each spent that time).
  expect(perRequest).toEqual({
    predictions: burst,
    requestsSent: burst,
    imagesInCalls: burst,
    queueWait: burst,
    inference: burst,
    store: burst,
    total: burst,
    errors: 0,
    inFlight: 0,
  });
});

test('KServe answers name the served model version: the one its metadata file gives, and the metadata route lists', async () => {
  const embedded = (await Bun.file(join(REPO, 'models/embedded/metadata.json')).json()) as { version: string };
  expect(embedded.version.length).toBeGreaterThan(0);
  const meta = (await (await fetch(`${stratus.url}/v2/models/mnist`)).json()) as { name: string; versions: string[] };
  expect(meta.versions[0]).toBe(embedded.version);
  for (const n of [1, 4]) {
    const response = await infer(30, n);
    expect(response.status).toBe(200);
    const answer = (await response.json()) as { model_name: string; model_version: string };
    expect([answer.model_name, answer.model_version]).toEqual(['mnist', embedded.version]);
  }
  // The simple API names the same version.
  const simple = (await (await predict(40)).json()) as { model: { version: string } };
  expect(simple.model.version).toBe(embedded.version);
});
