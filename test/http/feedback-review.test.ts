// The admin's review of feedback (src/http/feedback-routes.ts) through app.handle: a visitor's label,
// stored by the page as pending, is listed to the admin without the visitor's session id, and reaches the
// training data (trainingFeedback) only once accepted with the label the admin saw; every decision is an
// audit line, and without the token nothing is shown or changed.
import { afterEach, describe, expect, test } from 'bun:test';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { NewFeedback, PredictionResult } from '../../src/adapters/store/store.ts';
import { MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { AdminGuard } from '../../src/http/admin-guard.ts';
import { createApp } from '../../src/http/app.ts';
import { sessionDigest } from '../../src/http/feedback-routes.ts';
import type { Classification, Gateway } from '../../src/http/gateway.ts';
import { SessionIds } from '../../src/http/session.ts';
import { createLogger } from '../../src/log.ts';
import { Metrics } from '../../src/metrics.ts';
import { ModelRegistry } from '../../src/model/model-registry.ts';
import { imagesToText } from '../../src/protocol/image.ts';
import { Secret } from '../../src/secret.ts';
import { trainingFeedback } from '../../src/train/feedback.ts';

const TOKEN = 'feedback-review-admin-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };

/** The page's routes need a gateway; no test here classifies anything. */
class IdleGateway implements Gateway {
  modelVersion: string | null = 'fake-1';
  refusalOf() {
    return null;
  }
  forgetRefusal() {}
  async classify(): Promise<Classification> {
    throw new Error('not used here');
  }
}

const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const one of opened.splice(0)) await one.close();
});

async function appWith(options: { adminToken?: string | null } = {}) {
  const store = new PouchStore({ adapter: 'memory', directory: `feedback-review-${crypto.randomUUID()}` });
  await store.open();
  const transport = new MemoryTransport();
  await transport.start();
  opened.push(store, transport);
  const logLines: Record<string, unknown>[] = [];
  const logger = createLogger('info', { write: (line: string) => void logLines.push(JSON.parse(line)) });
  const sessions = new SessionIds(new Secret('feedback-review-session-key-0123456789'));
  const token = options.adminToken === undefined ? TOKEN : options.adminToken;
  const app = createApp({
    readiness: { notReadyReasons: () => [] },
    metrics: new Metrics(),
    logger,
    maxBodyBytes: 64 * 1024,
    gateway: new IdleGateway(),
    store,
    models: { registry: new ModelRegistry(store, transport), admin: new AdminGuard(token === null ? null : new Secret(token), logger) },
    admission: { rateLimits: { page: null, api: null, admin: null }, maxInFlight: Number.POSITIVE_INFINITY, trustedProxies: [], sessions },
  });
  const call = (path: string, init: RequestInit = {}) => app.handle(new Request(`http://stratus.test${path}`, init));
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  /** A visitor's cookie, as the page would have set it. */
  const cookieOf = (session: string) => sessions.cookie(session, new Request('http://stratus.test/')).split(';')[0] as string;
  return { store, call, post, cookieOf, logLines };
}

/** A page prediction of one digit, stored with its image as the consumer stores it. */
function prediction(session: string, digit: number, seed: number): PredictionResult {
  const pixels = Float32Array.from({ length: 784 }, (_, i) => ((i * seed) % 256) / 255);
  const probabilities = Array.from({ length: 10 }, (_, d) => (d === digit ? 0.91 : 0.01));
  return { id: `req-${crypto.randomUUID()}`, digits: [digit], probabilities: [probabilities], modelVersion: 'fake-1', createdAt: new Date().toISOString(), sessionId: session, images: imagesToText(pixels) };
}

interface Listed {
  id: string;
  label: number;
  predicted: number;
  modelVersion: string;
  createdAt: string;
  session: string | null;
  state: string;
  image: string;
}

const errorCode = async (response: Response) => ((await response.json()) as { error: { code: string } }).error.code;

describe('feedback review', () => {
  test("a visitor's label is pending, listed without the session id, and trained on only once accepted as seen", async () => {
    const { store, call, post, cookieOf, logLines } = await appWith();
    const session = crypto.randomUUID();
    const predicted = prediction(session, 4, 3);
    await store.saveResults([predicted]);
    // The visitor says the 4 was a 7: stored, but not for training.
    const labelled = await post('/page/feedback', { request: predicted.id, index: '0', label: '7' }, { cookie: cookieOf(session) });
    expect(labelled.status).toBe(200);
    expect(await trainingFeedback(store)).toEqual([]);

    const listing = await call('/api/feedback', { headers: AUTH });
    expect(listing.status).toBe(200);
    const { state, samples } = (await listing.json()) as { state: string; samples: Listed[] };
    expect(state).toBe('pending');
    expect(samples).toHaveLength(1);
    const [sample] = samples as [Listed];
    expect(sample).toMatchObject({ label: 7, predicted: 4, modelVersion: 'fake-1', state: 'pending', session: sessionDigest(session) });
    expect(sample.id).toMatch(/^image-[0-9a-f]{32}$/);
    // The image the model saw, as bytes; the session only as a digest.
    expect([...Buffer.from(sample.image, 'base64')]).toEqual(Array.from({ length: 784 }, (_, i) => (i * 3) % 256));
    expect(JSON.stringify(samples)).not.toContain(session);

    // The visitor changes their mind after the admin looked: accepting the 7 the admin saw is refused.
    expect((await post('/page/feedback', { request: predicted.id, index: '0', label: '1' }, { cookie: cookieOf(session) })).status).toBe(200);
    const stale = await post(`/api/feedback/${sample.id}/accept`, { label: 7 }, AUTH);
    expect([stale.status, await errorCode(stale)]).toEqual([409, 'label_changed']);
    expect(await trainingFeedback(store)).toEqual([]);

    const accepted = await post(`/api/feedback/${sample.id}/accept`, { label: 1 }, AUTH);
    expect([accepted.status, await accepted.json()]).toEqual([200, { id: sample.id, label: 1, state: 'accepted' }]);
    expect((await trainingFeedback(store)).map((s) => [s.id, s.label])).toEqual([[sample.id, 1]]);
    const acceptedList = (await (await call('/api/feedback?state=accepted', { headers: AUTH })).json()) as { samples: Listed[] };
    expect(acceptedList.samples.map((s) => [s.id, s.state])).toEqual([[sample.id, 'accepted']]);
    expect(((await (await call('/api/feedback', { headers: AUTH })).json()) as { samples: Listed[] }).samples).toEqual([]);

    // Rejected, it leaves the training data again.
    const rejected = await post(`/api/feedback/${sample.id}/reject`, { label: 1 }, AUTH);
    expect([rejected.status, await rejected.json()]).toEqual([200, { id: sample.id, label: 1, state: 'rejected' }]);
    expect(await trainingFeedback(store)).toEqual([]);

    // One audit line per decision carried out, from where, never the token; none for the refused one.
    const audit = logLines.filter((line) => line.audit).map((line) => line.audit);
    expect(audit).toEqual([
      { action: 'feedback_accept', client: 'unknown', feedback: sample.id, label: 1 },
      { action: 'feedback_reject', client: 'unknown', feedback: sample.id, label: 1 },
    ]);
    expect(JSON.stringify(logLines)).not.toContain(TOKEN);
  });

  test('without the admin token nothing is listed or changed; with none configured the review is off', async () => {
    const { store, call, post } = await appWith();
    const id = await store.saveFeedback(sample('visitor-session', 3));
    for (const headers of [{}, { authorization: 'Bearer wrong-token' }] as Record<string, string>[]) {
      const listing = await call('/api/feedback', { headers });
      expect([listing.status, await errorCode(listing)]).toEqual([401, 'unauthorized']);
      const accept = await post(`/api/feedback/${id}/accept`, { label: 3 }, headers);
      expect([accept.status, await errorCode(accept)]).toEqual([401, 'unauthorized']);
    }
    expect((await store.listFeedback(10))[0]?.state).toBe('pending');

    const off = await appWith({ adminToken: null });
    const listing = await off.call('/api/feedback', { headers: AUTH });
    expect([listing.status, await errorCode(listing)]).toEqual([403, 'admin_disabled']);
  });

  test('what the review refuses: an unknown sample, a bad label, state or limit', async () => {
    const { store, call, post } = await appWith();
    const id = await store.saveFeedback(sample('visitor-session', 3));
    const cases: [string, unknown, number, string][] = [
      ['/api/feedback/image-00000000000000000000000000000000/accept', { label: 3 }, 404, 'unknown_feedback'],
      ['/api/feedback/_all_docs/accept', { label: 3 }, 404, 'unknown_feedback'],
      [`/api/feedback/${id}/accept`, { label: 10 }, 422, 'invalid_body'],
      [`/api/feedback/${id}/accept`, {}, 422, 'invalid_body'],
      [`/api/feedback/${id}/reject`, { label: 3, extra: true }, 422, 'invalid_body'],
    ];
    for (const [path, body, status, code] of cases) {
      const response = await post(path, body, AUTH);
      expect([path, response.status, await errorCode(response)]).toEqual([path, status, code]);
    }
    for (const query of ['state=approved', 'limit=0', 'limit=1001', 'limit=x', 'sort=old']) {
      const response = await call(`/api/feedback?${query}`, { headers: AUTH });
      expect([query, response.status]).toEqual([query, 422]);
    }
    expect((await store.listFeedback(10))[0]?.state).toBe('pending');
  });

  test('a listing is newest first, at most `limit`, and one session shows at most its share', async () => {
    const { store, call } = await appWith();
    for (let n = 0; n < 70; n++) await store.saveFeedback(sample('flooder', n));
    await store.saveFeedback(sample('quiet', 100));
    const all = ((await (await call('/api/feedback?limit=1000', { headers: AUTH })).json()) as { samples: Listed[] }).samples;
    expect(all).toHaveLength(65);
    expect(all[0]?.session).toBe(sessionDigest('quiet'));
    expect(all.filter((s) => s.session === sessionDigest('flooder'))).toHaveLength(64);
    const two = ((await (await call('/api/feedback?state=pending&limit=2', { headers: AUTH })).json()) as { samples: Listed[] }).samples;
    expect(two.map((s) => s.id)).toEqual(all.slice(0, 2).map((s) => s.id));
  });

  test('the OpenAPI document lists the review routes with their admin errors', async () => {
    const { call } = await appWith();
    const spec = (await (await call('/docs/json')).json()) as { paths: Record<string, Record<string, { responses: Record<string, unknown>; tags?: string[]; requestBody?: { content: Record<string, unknown> } }>> };
    expect(Object.keys(spec.paths['/api/feedback']?.get?.responses ?? {}).sort()).toEqual(['200', '401', '403', '404', '405', '422', '429', '500']);
    for (const action of ['accept', 'reject']) {
      const operation = spec.paths[`/api/feedback/{id}/${action}`]?.post;
      expect(operation?.tags).toEqual(['feedback']);
      expect(Object.keys(operation?.requestBody?.content ?? {})).toEqual(['application/json']);
      expect(Object.keys(operation?.responses ?? {})).toEqual(expect.arrayContaining(['200', '401', '403', '404', '409', '422', '429']));
    }
  });
});

/** A pending sample of `session`, the n-th (each its own image, later n later in time). */
function sample(session: string, n: number): NewFeedback {
  return {
    requestId: `${session}-${n}`,
    label: n % 10,
    predicted: 0,
    modelVersion: 'fake-1',
    pixels: Array.from({ length: 784 }, (_, i) => (i === n ? 1 : 0)),
    createdAt: new Date(Date.UTC(2026, 5, 1, 0, 0, 0, n)).toISOString(),
    sessionId: session,
  };
}
