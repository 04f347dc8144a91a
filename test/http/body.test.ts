// Reading a request's JSON body: within its size, its deadline and a nesting depth.
import { expect, test } from 'bun:test';
import { MAX_JSON_DEPTH, nestingDepth, readJsonBody } from '../../src/http/body.ts';
import { HttpError } from '../../src/http/errors.ts';

const post = (body: string) => new Request('http://stratus/api/predict', { method: 'POST', body, headers: { 'content-type': 'application/json' } });
const refusalOf = (promise: Promise<unknown>) => promise.then(() => null, (error: HttpError) => ({ status: error.status, code: error.code }));

test('nesting depth counts brackets outside strings, escapes included', () => {
  expect(nestingDepth('{"a":[1,[2]],"b":"[[[["}')).toBe(3);
  expect(nestingDepth('["ends in a backslash\\\\", [1]]')).toBe(2);
  expect(nestingDepth('["an escaped quote \\" ]]]", [[1]]]')).toBe(3);
  expect(nestingDepth('42')).toBe(0);
  expect(nestingDepth('"never closed [[[')).toBe(0);
});

test('a body nested deeper than the limit is a 400 before it is parsed; at the limit it is read', async () => {
  const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;
  expect(await refusalOf(readJsonBody(post(nested(20_000)), 1 << 20))).toEqual({ status: 400, code: 'too_deep' });
  expect(await refusalOf(readJsonBody(post(`{"pixels":${nested(MAX_JSON_DEPTH)}}`), 1 << 20))).toEqual({ status: 400, code: 'too_deep' });
  expect(await readJsonBody(post(nested(MAX_JSON_DEPTH)), 1 << 20)).toBeArray();
  // Brackets in strings are text, however many.
  expect(await readJsonBody(post(JSON.stringify({ note: '['.repeat(10_000) })), 1 << 20)).toEqual({ note: '['.repeat(10_000) });
});

test('not JSON: 400; over the limit: 413', async () => {
  expect(await refusalOf(readJsonBody(post('{"a":'), 1024))).toEqual({ status: 400, code: 'malformed_json' });
  expect(await refusalOf(readJsonBody(post('x'.repeat(2048)), 1024))).toEqual({ status: 413, code: 'body_too_large' });
});
