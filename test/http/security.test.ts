// The same-origin rule as a function of the request's headers.
import { expect, test } from 'bun:test';
import { CONTENT_SECURITY_POLICY, isCrossSite } from '../../src/http/security.ts';

const request = (method: string, headers: Record<string, string>) => new Request('http://127.0.0.1:3000/page/clear', { method, headers });

test.each([
  ['POST', { 'sec-fetch-site': 'same-origin' }, false],
  ['POST', { 'sec-fetch-site': 'none' }, false],
  ['POST', { 'sec-fetch-site': 'same-site' }, true],
  ['POST', { 'sec-fetch-site': 'cross-site' }, true],
  // Sec-Fetch-Site wins over Origin: a browser that sends it knows best.
  ['POST', { 'sec-fetch-site': 'cross-site', origin: 'http://127.0.0.1:3000' }, true],
  ['POST', { origin: 'http://127.0.0.1:3000' }, false],
  ['POST', { origin: 'http://127.0.0.1:3001' }, true],
  ['POST', { origin: 'http://localhost:3000' }, true],
  ['POST', { origin: 'null' }, true],
  ['POST', { origin: 'not a url' }, true],
  ['POST', {}, false],
  ['DELETE', { origin: 'https://evil.example' }, true],
  ['GET', { 'sec-fetch-site': 'cross-site' }, false],
] as [string, Record<string, string>, boolean][])('%s %o → cross-site %p', (method, headers, expected) => {
  expect(isCrossSite(request(method, headers))).toBe(expected);
});

test('the CSP allows no inline script or style and no framing', () => {
  expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
  expect(CONTENT_SECURITY_POLICY).toContain("style-src 'self'");
  expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
  expect(CONTENT_SECURITY_POLICY).not.toContain('unsafe');
});
