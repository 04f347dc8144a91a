// The smallest reproductions of what the fuzz suites (test/http/fuzz-*.test.ts) found, each now answered
// as it should be. (Found and fixed with them too, and covered again by the suites: 500s for deep JSON, for
// concurrent writes of one document, for a missing or malformed Host header; a self-contradicting 405 for
// unresolved dot segments.)
import { afterAll, beforeAll, expect, test } from 'bun:test';
import { startLocal } from '../helpers/local-stratus.ts';
import { NO_RATE_LIMITS } from '../helpers/fuzz-http.ts';
import { sendRaw } from '../helpers/raw-http.ts';

let stratus: Awaited<ReturnType<typeof startLocal>>;
let port = 0;
beforeAll(async () => {
  stratus = await startLocal([...NO_RATE_LIMITS]);
  port = Number(new URL(stratus.url).port);
}, 30_000);
afterAll(() => stratus.stop());

const raw = (request: string) => sendRaw(port, new TextEncoder().encode(request), { halfClose: false });

// Elysia's validation error writes the refused value into its message with `${value}`: an object whose own
// toString is not a function made that throw, and the request got a 500 (src/http/body.ts).
test('an object with a toString key, written or escaped, is a 400 wherever it is', async () => {
  const post = (path: string, body: string) => fetch(`${stratus.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  for (const [path, body] of [
    ['/page/feedback', '{"request":{"toString":"x"},"index":"0","label":"1"}'],
    ['/v2/models/mnist/infer', '{"id":{"toString":"x"},"inputs":[]}'],
    ['/api/predict', '{"pixels":[{"valueOf":1}]}'],
    ['/api/predict', '{"drawing":{"\\u0074oString":"x"}}'],
  ]) {
    const response = await post(path as string, body as string);
    expect(response.status, `${path} ${body}`).toBe(400);
    const { error } = (await response.json()) as { error: { code: string } | string };
    // The KServe route answers in the Open Inference Protocol's shape, its code in a header.
    expect(typeof error === 'string' ? response.headers.get('stratus-error-code') : error.code).toBe('reserved_key');
  }
});

// Elysia's router takes the path from the first '/' at or after index 11 of request.url, which assumes a
// host of four characters or more: with a shorter Host ("x"), or none (Bun then gives the bare path), it
// cut into the path, and /model.json/models was answered as /models. A proxy that filters by path would see
// one route and the app serve another. Such a request is now a 400 (src/http/app.ts).
test('GET /model.json/models with a one-letter Host is refused, not served as /models', async () => {
  const answer = await raw('GET /model.json/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  expect(answer.status).toBe(400);
});

test('GET /abcdefghij/models without a Host (HTTP/1.0) is refused; a probe without one is answered', async () => {
  expect((await raw('GET /abcdefghij/models HTTP/1.0\r\n\r\n')).status).toBe(400);
  expect((await raw('GET /v2/health/live HTTP/1.0\r\n\r\n')).status).toBe(200);
});
