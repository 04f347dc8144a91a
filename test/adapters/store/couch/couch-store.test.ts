// CouchStore against a real CouchDB API: COUCHDB_URL if set (CI), else a pouchdb-server started here.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CouchCredentials, resolveCouchConnection } from '../../../../src/adapters/store/couch/couch-credentials.ts';
import { CouchStore } from '../../../../src/adapters/store/couch/couch-store.ts';
import { createStore, storeAdapter } from '../../../../src/adapters/store/registry.ts';
import { Periods, type SeriesKind } from '../../../../src/adapters/store/periods.ts';
import { DEFAULT_RETENTION, type PredictionResult, type RetentionPolicy } from '../../../../src/adapters/store/store.ts';
import { ConfigError, helpText, parseCli } from '../../../../src/config.ts';
import { couchServer, startPouchServer, type CouchServer } from '../../../helpers/couch-server.ts';
import { freePort } from '../../../helpers/process.ts';
import { waitFor } from '../../../helpers/wait.ts';
import { runStoreConformance } from '../store.conformance.ts';

let shared: Promise<CouchServer> | null = null;
const server = () => (shared ??= couchServer());
// Started before the suites so no test's own timeout pays for Node loading pouchdb-server.
beforeAll(async () => {
  await server();
}, 90_000);
afterAll(async () => {
  if (shared) await (await shared).stop();
});

/** The shared server's URL and credentials, split the way the config does it. */
async function connection() {
  const { url } = await server();
  return resolveCouchConnection(url, 'test', null, process.env);
}

// Not what users get: they get a 15 s budget with jittered pauses (DEFAULT_RETRY, couch-client.ts). A
// restarted pouchdb-server answers after 3–6 s here, but far later when the machine is busy: the tests
// show that calls wait a restart out, not how fast Node starts, so the budget is 60 s. Same pauses
// without jitter: one client here, no herd to spread.
const OUTLAST_A_RESTART = { budgetMs: 60_000, firstDelayMs: 50, maxDelayMs: 1_000 };

const freshPrefix = () => `stratus_test_${crypto.randomUUID().slice(0, 8)}_`;

async function dropDatabases(prefix: string): Promise<void> {
  const { url, credentials } = await connection();
  const headers: Record<string, string> = credentials ? { authorization: credentials.authorizationHeader() } : {};
  const all = (await (await fetch(`${url}/_all_dbs`, { headers })).json()) as string[];
  for (const name of all.filter((db) => db.startsWith(prefix))) await fetch(`${url}/${encodeURIComponent(name)}`, { method: 'DELETE', headers });
}

runStoreConformance('couchdb', 'couchdb', async () => {
  const { url, credentials } = await connection();
  const prefix = freshPrefix();
  const open = async (retention?: RetentionPolicy) => {
    const store = new CouchStore({ url, prefix, credentials, ...(retention ? { retention } : {}) });
    await store.open();
    return store;
  };
  return { open, reopen: open, teardown: () => dropDatabases(prefix) };
});

let sequence = 0;
function result(sessionId?: string): PredictionResult {
  sequence++;
  return {
    id: `couch-${sequence}-${crypto.randomUUID()}`,
    digits: [sequence % 10],
    probabilities: [Array.from({ length: 10 }, (_, d) => (d === sequence % 10 ? 0.91 : 0.01))],
    modelVersion: 'v-test',
    createdAt: new Date(Date.UTC(2026, 0, 1) + sequence).toISOString(),
    ...(sessionId ? { sessionId } : {}),
  };
}

/** The database this period's results (or history) go to, without the prefix. */
const currentPeriod = (kind: SeriesKind) => {
  const periods = new Periods(DEFAULT_RETENTION.retentionMs);
  return periods.name(kind, periods.of(Date.now()));
};

describe('CouchStore beyond the conformance suite', () => {
  test('databases are named with the prefix and shared by stores opened at once', async () => {
    const { url, credentials } = await connection();
    const prefix = freshPrefix();
    // Both look, both may find nothing and both PUT: the loser's 412 must not fail its open().
    const stores = [new CouchStore({ url, prefix, credentials }), new CouchStore({ url, prefix, credentials })];
    await Promise.all(stores.map((store) => store.open()));
    const saved = result('session-shared');
    expect(await stores[0]!.saveResults([saved])).toEqual(['created']);
    expect(await stores[1]!.getResult(saved.id)).toEqual(saved);
    const headers: Record<string, string> = credentials ? { authorization: credentials.authorizationHeader() } : {};
    expect((await fetch(`${url}/${prefix}${currentPeriod('results')}/${saved.id}`, { headers })).status).toBe(200);
    await Promise.all(stores.map((store) => store.close()));
    await dropDatabases(prefix);
  }, 30_000);

  test('a redelivered result whose history entry was lost is indexed again', async () => {
    const { url, credentials } = await connection();
    const prefix = freshPrefix();
    const store = new CouchStore({ url, prefix, credentials });
    await store.open();
    const saved = result('session-repair');
    // As if the process died between the results write and the history write: only the result is there.
    const headers: Record<string, string> = { 'content-type': 'application/json', ...(credentials ? { authorization: credentials.authorizationHeader() } : {}) };
    const { id, ...body } = saved;
    const db = `${url}/${prefix}${currentPeriod('results')}`;
    expect((await fetch(db, { method: 'PUT', headers })).status).toBe(201);
    expect((await fetch(`${db}/${id}`, { method: 'PUT', headers, body: JSON.stringify(body) })).status).toBe(201);
    expect(await store.sessionHistory('session-repair', 10)).toEqual([]);
    expect(await store.saveResults([{ ...saved, createdAt: new Date().toISOString() }])).toEqual(['exists']);
    expect(await store.sessionHistory('session-repair', 10)).toEqual([saved]);
    await store.close();
    await dropDatabases(prefix);
  }, 30_000);

  test('batches written at once share requests, yet each gets its own outcomes (a redelivered id: exists)', async () => {
    const { url, credentials } = await connection();
    const prefix = freshPrefix();
    const store = new CouchStore({ url, prefix, credentials });
    await store.open();
    const stored = result('session-group');
    expect(await store.saveResults([stored])).toEqual(['created']);
    const batches = Array.from({ length: 6 }, (_, i) => Array.from({ length: 4 }, () => result(i % 2 ? 'session-group' : undefined)));
    // The third batch carries a redelivery of a result stored before: only it says 'exists', only there.
    batches[2]![1] = { ...stored, createdAt: new Date().toISOString() };
    const outcomes = await Promise.all(batches.map((batch) => store.saveResults(batch)));
    expect(outcomes).toEqual(batches.map((_, i) => (i === 2 ? ['created', 'exists', 'created', 'created'] : ['created', 'created', 'created', 'created'])));
    for (const batch of batches) for (const saved of batch) expect(await store.getResult(saved.id)).toEqual(saved.id === stored.id ? stored : saved);
    const history = await store.sessionHistory('session-group', 100);
    expect(history.map((entry) => entry.id).sort()).toEqual([stored, ...batches.filter((_, i) => i % 2).flat()].map((entry) => entry.id).sort());
    await store.close();
    await dropDatabases(prefix);
  }, 30_000);

  test('look-ups made at once share one _all_docs request, and each gets its own documents', async () => {
    const { url, credentials } = await connection();
    const prefix = freshPrefix();
    // Between the store and the server, to count what goes to the server.
    const asked: string[] = [];
    const proxy = Bun.serve({
      hostname: '127.0.0.1',
      port: 0,
      fetch: async (request) => {
        const incoming = new URL(request.url);
        asked.push(`${request.method} ${incoming.pathname}`);
        const body = request.method === 'GET' || request.method === 'HEAD' ? undefined : await request.arrayBuffer();
        return fetch(new URL(incoming.pathname + incoming.search, url), { method: request.method, headers: request.headers, body });
      },
    });
    const store = new CouchStore({ url: `http://127.0.0.1:${proxy.port}`, prefix, credentials });
    try {
      await store.open();
      const saved = [result('session-lookups'), result(), result('session-lookups')];
      await store.saveResults(saved);
      asked.length = 0;
      const unknown = ['never-stored-1', 'never-stored-2'];
      const found = await Promise.all([...saved.map((one) => one.id), ...unknown].map((id) => store.getResult(id)));
      expect(found).toEqual([...saved, null, null]);
      const resultsLookups = asked.filter((line) => line === `POST /${prefix}${currentPeriod('results')}/_all_docs`);
      expect(resultsLookups).toHaveLength(1);
    } finally {
      await store.close();
      proxy.stop(true);
      await dropDatabases(prefix);
    }
  }, 30_000);

  test('an unreachable server fails open() after the retry budget, unhealthy, without the password', async () => {
    const port = freePort();
    const { url, credentials } = resolveCouchConnection(`http://bob:hunter2-secret@127.0.0.1:${port}`, 'test', null, {});
    expect(url).not.toContain('hunter2');
    // A 300 ms budget, not the 15 s users get: giving up after the budget is the same at any length.
    const store = new CouchStore({ url, prefix: freshPrefix(), credentials, retry: { budgetMs: 300, firstDelayMs: 20, maxDelayMs: 100 } });
    const started = performance.now();
    const failure = await store.open().then(() => null, (error: Error) => error);
    expect(failure?.message).toMatch(/no answer after \d+ attempts/);
    expect(performance.now() - started).toBeGreaterThanOrEqual(300);
    expect(`${failure?.message} ${failure?.stack} ${JSON.stringify(failure)}`).not.toContain('hunter2');
    expect(store.healthy()).toBe(false);
  }, 30_000);

  test('a server restart under a stream of writes: nothing fails, everything is stored, health follows', async () => {
    const couch = await startPouchServer({ inMemory: false });
    // Every entry is listed at the end: no history limit gets in the way.
    const retention = { ...DEFAULT_RETENTION, historyLimit: 1_000_000 };
    // Pinged every 100 ms, not the 2 s users get: health must turn within the short waits below, and how
    // soon a ping notices is not what this test is about (the faults suite runs the default 2 s ping).
    const store = new CouchStore({ url: couch.url, prefix: freshPrefix(), pingIntervalMs: 100, retry: OUTLAST_A_RESTART, retention });
    try {
      await store.open();
      const written: PredictionResult[] = [];
      const failures: unknown[] = [];
      let running = true;
      let killedAt = Infinity;
      let backAt = Infinity;
      let survivedOutage = 0;
      // Two writers, as two consumer batches in flight, each waiting for its write before the next.
      const writer = async (session: string) => {
        while (running) {
          const batch = Array.from({ length: 16 }, () => result(session));
          const begun = performance.now();
          try {
            await store.saveResults(batch);
            written.push(...batch);
            // Begun before the kill, done after the restart: it waited the outage out.
            if (begun < killedAt && performance.now() > backAt) survivedOutage++;
          } catch (error) {
            failures.push(error);
          }
        }
      };
      const writers = [writer('session-w1'), writer('session-w2')];
      await waitFor(() => written.length >= 160, 20_000);
      const outageStarted = performance.now();
      await couch.kill();
      killedAt = performance.now();
      await waitFor(() => !store.healthy(), 5_000);
      const before = written.length;
      await couch.start();
      backAt = performance.now();
      const outageMs = performance.now() - outageStarted;
      await waitFor(() => store.healthy(), 10_000);
      await waitFor(() => written.length >= before + 160, 30_000);
      running = false;
      await Promise.all(writers);
      console.log(`restart: server away ${Math.round(outageMs)} ms; ${survivedOutage} calls waited the outage out; ${written.length} results in total`);
      expect(failures.map(String)).toEqual([]);
      expect(survivedOutage).toBeGreaterThan(0);
      const stored = await Promise.all(written.map((r) => store.getResult(r.id)));
      expect(stored).toEqual(written);
      const sessions = ['session-w1', 'session-w2'].map((s) => store.sessionHistory(s, written.length));
      const history = (await Promise.all(sessions)).flat();
      expect(history.map((r) => r.id).sort()).toEqual(written.map((r) => r.id).sort());
    } finally {
      await store.close();
      await couch.stop();
    }
  }, 120_000);

  test('a server that comes back empty gets its databases again on the next call', async () => {
    const couch = await startPouchServer({ inMemory: true });
    const store = new CouchStore({ url: couch.url, prefix: freshPrefix(), retry: OUTLAST_A_RESTART });
    try {
      await store.open();
      await store.saveResults([result('session-empty')]);
      await couch.kill();
      await couch.start();
      // In memory, as ops/dev/services runs it: the restart forgot every database.
      const after = result('session-empty');
      expect(await store.saveResults([after])).toEqual(['created']);
      expect(await store.getResult(after.id)).toEqual(after);
      expect(await store.sessionHistory('session-empty', 10)).toEqual([after]);
      expect(await store.getServingVersion()).toBeNull();
    } finally {
      await store.close();
      await couch.stop();
    }
  }, 60_000);

  test('credentials from a secret directory are sent; wrong ones fail without being shown', async () => {
    const couch = await startPouchServer({ inMemory: true });
    const secrets = await mkdtemp(join(tmpdir(), 'stratus-couch-secret-'));
    try {
      // With an admin defined, pouchdb-server checks every Basic Authorization header it is sent.
      const admin = await fetch(`${couch.url}/_config/admins/alice`, { method: 'PUT', body: JSON.stringify('s3cret-pw') });
      expect(admin.ok).toBe(true);
      await writeFile(join(secrets, 'username'), 'alice\n');
      await writeFile(join(secrets, 'password'), 's3cret-pw\n');
      const good = resolveCouchConnection(couch.url, 'test', secrets, { COUCHDB_USER: 'mallory', COUCHDB_PASSWORD: 'ignored' });
      expect(good.credentials?.username).toBe('alice');
      const store = new CouchStore({ url: good.url, prefix: freshPrefix(), credentials: good.credentials });
      await store.open();
      expect(store.healthy()).toBe(true);
      const saved = result();
      expect(await store.saveResults([saved])).toEqual(['created']);
      expect(await store.getResult(saved.id)).toEqual(saved);
      await store.close();

      const bad = resolveCouchConnection(couch.url, 'test', null, { COUCHDB_USER: 'alice', COUCHDB_PASSWORD: 'wrong-pw-xyz' });
      const refused = new CouchStore({ url: bad.url, prefix: freshPrefix(), credentials: bad.credentials });
      const failure = await refused.open().then(() => null, (error: Error) => error);
      expect(failure?.message).toContain('401');
      expect(refused.healthy()).toBe(false);
      const shown = `${failure?.message} ${failure?.stack} ${JSON.stringify(failure)} ${Bun.inspect(failure)}`;
      expect(shown).not.toContain('wrong-pw-xyz');
      expect(shown).not.toContain(Buffer.from('alice:wrong-pw-xyz').toString('base64'));
    } finally {
      await couch.stop();
      await rm(secrets, { recursive: true, force: true });
    }
  }, 60_000);
});

describe('couchdb configuration', () => {
  const run = (argv: string[], env: Record<string, string> = {}) => {
    const action = parseCli(argv, env);
    if (action.kind !== 'run') throw new Error(`expected run, got ${action.kind}`);
    return action.config;
  };

  test('--store couchdb needs a URL', () => {
    expect(() => run(['--store', 'couchdb'])).toThrow(ConfigError);
    expect(() => run(['--store', 'couchdb'])).toThrow(/--couchdb-url/);
  });

  test('the URL comes from the flag, STRATUS_COUCHDB_URL or COUCHDB_URL, in that order', () => {
    expect(run(['--store', 'couchdb'], { COUCHDB_URL: 'http://a:5984' }).couchdbUrl).toBe('http://a:5984');
    const both = { COUCHDB_URL: 'http://a:5984', STRATUS_COUCHDB_URL: 'http://b:5984' };
    expect(run(['--store', 'couchdb'], both).couchdbUrl).toBe('http://b:5984');
    expect(run(['--store', 'couchdb', '--couchdb-url', 'http://c:5984/'], both).couchdbUrl).toBe('http://c:5984');
    expect(run([]).couchdbPrefix).toBe('stratus_');
    expect(run(['--couchdb-prefix', 'team_a_']).couchdbPrefix).toBe('team_a_');
    expect(() => run(['--couchdb-prefix', 'Team'])).toThrow(/--couchdb-prefix/);
  });

  test('a password in the URL, the environment or a secret dir never shows in the config, errors or help', async () => {
    const fromUrl = run(['--store', 'couchdb', '--couchdb-url', 'http://admin:pw-in-url@couch:5984']);
    expect(fromUrl.couchdbUrl).toBe('http://couch:5984');
    expect(fromUrl.couchdbCredentials?.username).toBe('admin');
    expect(JSON.stringify(fromUrl)).not.toContain('pw-in-url');
    expect(Bun.inspect(fromUrl)).not.toContain('pw-in-url');
    expect(() => run(['--store', 'couchdb', '--couchdb-url', 'ftp://admin:pw-in-url@couch'])).toThrow(/^--couchdb-url: not an http\(s\) URL$/);

    const fromEnv = run(['--store', 'couchdb'], { COUCHDB_URL: 'http://couch:5984', COUCHDB_USER: 'app', COUCHDB_PASSWORD: 'pw-in-env' });
    expect(fromEnv.couchdbCredentials?.authorizationHeader()).toBe(`Basic ${btoa('app:pw-in-env')}`);
    expect(`${JSON.stringify(fromEnv)} ${Bun.inspect(fromEnv)} ${String(fromEnv.couchdbCredentials)}`).not.toContain('pw-in-env');
    expect(() => run(['--store', 'couchdb'], { COUCHDB_URL: 'http://couch:5984', COUCHDB_USER: 'app' })).toThrow(/COUCHDB_PASSWORD/);

    const secrets = await mkdtemp(join(tmpdir(), 'stratus-couch-secret-'));
    try {
      await writeFile(join(secrets, 'username'), 'svc');
      await writeFile(join(secrets, 'password'), 'pw-in-file');
      const fromDir = run(['--store', 'couchdb', '--couchdb-url', 'http://couch:5984', '--couchdb-secret-dir', secrets]);
      expect(fromDir.couchdbCredentials?.authorizationHeader()).toBe(`Basic ${btoa('svc:pw-in-file')}`);
      expect(JSON.stringify(fromDir)).not.toContain('pw-in-file');
      const missing = join(secrets, 'nope');
      expect(() => run(['--store', 'couchdb', '--couchdb-url', 'http://couch:5984', '--couchdb-secret-dir', missing])).toThrow(ConfigError);
    } finally {
      await rm(secrets, { recursive: true, force: true });
    }
    const help = helpText('0.0.0');
    for (const flag of ['--couchdb-url', '--couchdb-prefix', '--couchdb-secret-dir', 'COUCHDB_URL']) expect(help).toContain(flag);
  });

  test('the registry builds a CouchStore for --store couchdb', async () => {
    const config = run(['--store', 'couchdb', '--couchdb-url', 'http://u:p@127.0.0.1:1']);
    const store = await createStore(config.store, config);
    expect(store).toBeInstanceOf(CouchStore);
    expect(store.name).toBe('couchdb');
    expect(storeAdapter('couchdb').capabilities.durable).toBe(true);
  });

  test('credentials print as redacted', () => {
    const credentials = new CouchCredentials('u', 'pw-x');
    expect(`${credentials} ${JSON.stringify(credentials)} ${Bun.inspect(credentials)}`).not.toContain('pw-x');
    expect(credentials.redact(`failed with pw-x and ${credentials.authorizationHeader()}`)).not.toContain('pw-x');
  });
});
