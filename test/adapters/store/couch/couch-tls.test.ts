// CouchDB over https: a server whose certificate a private CA signed (here a TLS proxy in front of the
// test's CouchDB-API server), which Stratus trusts through NODE_EXTRA_CA_CERTS, the way the prod overlay
// gives it the CA. The runtime reads that variable once at start, so the client is a child process:
// `stratus feedback export`, which opens the store, reads it and says what it did in one line.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { couchServer, type CouchServer } from '../../../helpers/couch-server.ts';
import { MAIN, runToEnd } from '../../../helpers/process.ts';
import { makeCertificates, opensslMissing, type TestCertificates } from '../../../helpers/test-certificates.ts';

const missing = opensslMissing();
if (missing) console.warn(`SKIPPED: CouchDB over https needs openssl to make its certificates (${missing})`);

describe.skipIf(missing !== null)('CouchDB over https', () => {
  let upstream: CouchServer;
  let proxy: ReturnType<typeof Bun.serve>;
  let certificates: TestCertificates;
  const dir = mkdtempSync(join(tmpdir(), 'stratus-couch-tls-'));
  const prefix = `stratus_tls_${crypto.randomUUID().slice(0, 8)}_`;

  beforeAll(async () => {
    upstream = await couchServer();
    certificates = makeCertificates(dir, 'couchdb');
    proxy = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      tls: { cert: Bun.file(certificates.cert), key: Bun.file(certificates.key) },
      async fetch(request) {
        const url = new URL(request.url);
        const headers = new Headers(request.headers);
        headers.delete('host');
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
        const answer = await fetch(`${upstream.url}${url.pathname}${url.search}`, { method: request.method, headers, body });
        return new Response(answer.body, { status: answer.status, headers: answer.headers });
      },
    });
  }, 90_000);

  afterAll(async () => {
    proxy?.stop(true);
    const names = (await (await fetch(`${upstream.url}/_all_dbs`)).json()) as string[];
    for (const name of names.filter((db) => db.startsWith(prefix))) await fetch(`${upstream.url}/${name}`, { method: 'DELETE' });
    await upstream?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const exportThrough = (env: Record<string, string>) =>
    runToEnd(['bun', MAIN, 'feedback', 'export', '--store', 'couchdb', '--couchdb-url', `https://127.0.0.1:${proxy.port}`, '--couchdb-prefix', prefix, '--out', join(dir, 'feedback.jsonl')], { env });

  test('with the CA that signed the server certificate, the store works over https', async () => {
    const { code, stdout, stderr } = await exportThrough({ NODE_EXTRA_CA_CERTS: certificates.ca });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toBe(`exported 0 feedback samples to ${join(dir, 'feedback.jsonl')}\n`);
  }, 60_000);

  test('without it, one line naming the certificate problem, at once rather than after retrying', async () => {
    const { code, stderr } = await exportThrough({});
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^stratus: feedback export failed: .*certificate/);
    // A failure worth retrying ends as "no answer after N attempts" (couch-client.ts).
    expect(stderr).not.toContain('attempts');
  }, 60_000);
});
