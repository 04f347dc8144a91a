// Each role as its own CouchDB user (`stratus couchdb keep`): against a pouchdb-server with a server
// admin and validate_doc_update enforced, every role can do its own work through CouchStore, and its
// credentials are refused everything else, asked directly over HTTP as an attacker holding them would.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { COUCH_ROLES, type CouchRole } from '../../../../src/adapters/store/couch/couch-access.ts';
import { CouchCredentials } from '../../../../src/adapters/store/couch/couch-credentials.ts';
import { startCouchKeeper, type CouchKeeper } from '../../../../src/adapters/store/couch/couch-keeper.ts';
import { CouchStore } from '../../../../src/adapters/store/couch/couch-store.ts';
import { Periods } from '../../../../src/adapters/store/periods.ts';
import { DEFAULT_RETENTION, type PredictionResult } from '../../../../src/adapters/store/store.ts';
import { startPouchServer, type PouchServer } from '../../../helpers/couch-server.ts';
import { childEnv, MAIN, REPO, runToEnd } from '../../../helpers/process.ts';
import { waitFor } from '../../../helpers/wait.ts';

const PREFIX = 'stratus_';
const admin = new CouchCredentials('root', `admin-${crypto.randomUUID()}`);
const password = (role: string) => `${role}-${crypto.randomUUID()}`;
const users = new Map<CouchRole, CouchCredentials>(COUCH_ROLES.map((role) => [role, new CouchCredentials(`${PREFIX}${role}`, password(role))]));
const quiet = pino({ level: 'silent' });

let server: PouchServer;
let keeper: CouchKeeper | null = null;
const opened: CouchStore[] = [];

beforeAll(async () => {
  server = await startPouchServer({ inMemory: true });
  // The first admin ends the "admin party": from then on, anonymous and non-admin calls are checked.
  const made = await fetch(`${server.url}/_config/admins/${admin.username}`, { method: 'PUT', body: JSON.stringify(passwordOf(admin)) });
  expect(made.ok).toBe(true);
  // Made before the keeper ever ran, as by a deployment whose roles all logged in as the admin: open to
  // every user until the keeper secures it.
  expect((await call(admin, 'stratus_feedback', { method: 'PUT' })).status).toBe(201);
  keeper = await startCouchKeeper({ url: server.url, credentials: admin }, users, false, quiet);
}, 90_000);

afterAll(async () => {
  for (const store of opened) await store.close();
  await keeper?.stop();
  await server?.stop();
});

/** The password as the admin document carries it (CouchCredentials keeps it private otherwise). */
function passwordOf(credentials: CouchCredentials): string {
  return (credentials.userDocument('', []) as { password: string }).password;
}

async function storeAs(role: CouchRole, credentials = users.get(role)!): Promise<CouchStore> {
  const store = new CouchStore({ url: server.url, credentials });
  await store.open();
  opened.push(store);
  return store;
}

/** One call with a role's credentials, straight to the server. */
async function call(role: CouchRole | CouchCredentials, path: string, init: { method?: string; body?: unknown } = {}): Promise<{ status: number; body: unknown }> {
  const credentials = typeof role === 'string' ? users.get(role)! : role;
  const response = await fetch(`${server.url}/${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: credentials.authorizationHeader(), 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
  });
  return { status: response.status, body: await response.json().catch(() => null) };
}

const refused = (status: number) => expect([400, 401, 403]).toContain(status);

function currentPeriod(kind: 'results' | 'history'): string {
  const periods = new Periods(DEFAULT_RETENTION.retentionMs);
  return `${PREFIX}${periods.name(kind, periods.of(Date.now()))}`;
}

let sequence = 0;
function result(sessionId: string): PredictionResult {
  sequence++;
  return { id: `roles-${sequence}-${crypto.randomUUID()}`, digits: [3], probabilities: [[0, 0, 0, 1, 0, 0, 0, 0, 0, 0]], modelVersion: 'v1', createdAt: new Date().toISOString(), sessionId };
}

describe('each role with its own CouchDB user', () => {
  test('each role does its own work through CouchStore', async () => {
    const [gateway, consumer, trainer] = await Promise.all([storeAs('gateway'), storeAs('consumer'), storeAs('trainer')]);
    const drawn = result('session-a');
    expect(await consumer.saveResults([drawn])).toEqual(['created']);
    expect(await gateway.getResult(drawn.id)).toMatchObject({ id: drawn.id, digits: [3] });
    expect((await gateway.sessionHistory('session-a', 10)).map((r) => r.id)).toEqual([drawn.id]);
    expect(await gateway.clearSession('session-a')).toBe(1);
    const sample = await gateway.saveFeedback({ pixels: new Array(784).fill(0), label: 7, predicted: 1, requestId: drawn.id, modelVersion: 'v1', createdAt: new Date().toISOString(), sessionId: 'session-a' });
    expect(await gateway.reviewFeedback(sample, 7, 'accepted')).toMatchObject({ label: 7, state: 'accepted' });
    expect((await trainer.listFeedback(10, { state: 'accepted' })).map((s) => s.id)).toEqual([sample]);
    const meta = { version: 'roles-v1', createdAt: new Date().toISOString(), arch: 'lean', metrics: {} };
    expect(await trainer.saveModel(meta as never, { modelJson: new TextEncoder().encode('{}'), weightsBin: new Uint8Array(4) })).toBe('created');
    await trainer.setServingVersion('roles-v1');
    // The write rule is a design document in the database: list reads do not take it for a version.
    expect((await consumer.listModels()).map((m) => m.version)).toEqual(['roles-v1']);
    expect(await consumer.getServingVersion()).toBe('roles-v1');
  });

  test("a gateway's credentials cannot change any database's security or rules, nor touch the server", async () => {
    for (const db of ['stratus_models', 'stratus_feedback', currentPeriod('results')]) {
      refused((await call('gateway', `${db}/_security`, { method: 'PUT', body: { admins: { names: ['stratus_gateway'], roles: [] }, members: { names: [], roles: [] } } })).status);
      refused((await call('gateway', `${db}/_design/stratus_access`, { method: 'PUT', body: { validate_doc_update: 'function () {}' } })).status);
    }
    refused((await call('gateway', `_config/admins/intruder`, { method: 'PUT', body: 'secret-password' })).status);
    // Another user's document (its salted hash): CouchDB answers 404, pouchdb-server 4.2.0 fails with 500.
    const other = await call('gateway', `_users/org.couchdb.user:${PREFIX}trainer`);
    expect(other.status).toBeGreaterThanOrEqual(400);
    expect(JSON.stringify(other.body)).not.toContain('derived_key');
    // Not checked here: that a user cannot give itself another role in its own _users document. CouchDB
    // lets only admins change roles; pouchdb-server 4.2.0 lets the user do it (docs/security.md).
  });

  test('a gateway reads models, settings and results but cannot write them', async () => {
    const gateway = await storeAs('gateway');
    expect((await call('gateway', 'stratus_models/_all_docs')).status).toBe(200);
    const meta = { version: 'from-gateway', createdAt: new Date().toISOString(), arch: 'lean', metrics: {} };
    await expect(gateway.saveModel(meta as never, { modelJson: new TextEncoder().encode('{}'), weightsBin: new Uint8Array(4) })).rejects.toThrow();
    await expect(gateway.setServingVersion('from-gateway')).rejects.toThrow();
    expect((await call('gateway', 'stratus_models/forged', { method: 'PUT', body: { arch: 'lean' } })).status).toBe(403);
    const forged = (await call('gateway', `${currentPeriod('results')}/_bulk_docs`, { method: 'POST', body: { docs: [{ _id: 'forged', digit: 0 }] } })).body as { error?: string }[];
    expect(forged[0]?.error).toBe('forbidden');
    expect(await gateway.getServingVersion()).not.toBe('from-gateway');
  });

  test('a role is no member of the databases it does not need', async () => {
    // The consumer never sees what people labelled (a database made before the keeper ran, which it
    // secured at start); the trainer never sees what they drew.
    refused((await call('consumer', 'stratus_feedback/_all_docs')).status);
    refused((await call('consumer', 'stratus_feedback/anything', { method: 'PUT', body: { label: 1 } })).status);
    refused((await call('trainer', `${currentPeriod('results')}/_all_docs`)).status);
    refused((await call('trainer', `${currentPeriod('history')}/_all_docs`)).status);
    // Nor may a consumer announce a model, or anyone without a user read anything.
    expect((await call('consumer', 'stratus_settings/serving-version', { method: 'PUT', body: { value: 'x' } })).status).toBe(403);
    expect((await fetch(`${server.url}/stratus_models/_all_docs`)).status).toBe(401);
  });

  test('the keeper started again gives the gateway publishing rights and a new password; the old one stops working', async () => {
    const old = users.get('gateway')!;
    const rotated = new CouchCredentials(old.username, password('gateway'));
    await keeper!.stop();
    keeper = await startCouchKeeper({ url: server.url, credentials: admin }, new Map([['gateway', rotated]]), true, quiet);
    expect((await call(old, 'stratus_models/_all_docs')).status).toBe(401);
    const gateway = await storeAs('gateway', rotated);
    const meta = { version: 'published-by-admin-api', createdAt: new Date().toISOString(), arch: 'lean', metrics: {} };
    expect(await gateway.saveModel(meta as never, { modelJson: new TextEncoder().encode('{}'), weightsBin: new Uint8Array(4) })).toBe('created');
    users.set('gateway', rotated);
  });

  test('a role user never creates a database: a missing one is an error naming the keeper', async () => {
    const consumer = await storeAs('consumer');
    // As if the keeper had been down since this period began.
    expect((await call(admin, currentPeriod('results'), { method: 'DELETE' })).status).toBe(200);
    await expect(consumer.saveResults([result('session-b')])).rejects.toThrow(/keeper/);
  });

  test('`stratus couchdb keep` makes the users it is given and stops on SIGTERM with 0; a wrong admin password is exit 1 and one line', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'stratus-keeper-'));
    const adminDir = join(dir, 'admin');
    const gatewayDir = join(dir, 'users', 'gateway');
    await mkdir(adminDir, { recursive: true });
    await mkdir(gatewayDir, { recursive: true });
    const cli = new CouchCredentials('stratus_cli_gateway', password('gateway'));
    await writeFile(join(gatewayDir, 'username'), cli.username);
    await writeFile(join(gatewayDir, 'password'), passwordOf(cli));
    await writeFile(join(adminDir, 'username'), admin.username);
    const args = ['bun', MAIN, 'couchdb', 'keep', '--couchdb-url', server.url, '--couchdb-prefix', 'stratus_cli_', '--couchdb-secret-dir', adminDir, '--couchdb-users-dir', join(dir, 'users')];
    try {
      await writeFile(join(adminDir, 'password'), 'not-the-admin-password');
      const refused = await runToEnd(args);
      expect(refused.code).toBe(1);
      expect(refused.stderr.trim().split('\n')).toHaveLength(1);
      expect(refused.stderr).toStartWith('stratus: couchdb keep could not start:');
      expect(refused.stderr).not.toContain('not-the-admin-password');

      await writeFile(join(adminDir, 'password'), passwordOf(admin));
      const keeping = Bun.spawn(args, { cwd: REPO, stdin: 'ignore', stdout: 'ignore', stderr: 'pipe', env: childEnv({ STRATUS_LOG_LEVEL: 'warn' }) });
      await waitFor(async () => {
        if (keeping.exitCode !== null) throw new Error(`exited with ${keeping.exitCode}: ${await new Response(keeping.stderr).text()}`);
        return ((await call(cli, '_session')).body as { userCtx?: { name?: string } } | null)?.userCtx?.name === cli.username;
      }, 30_000, 50);
      expect((await call(cli, 'stratus_cli_models/_all_docs')).status).toBe(200);
      keeping.kill('SIGTERM');
      expect(await keeping.exited).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  // Last: pouchdb-server 4.2.0 answers this 401 and then dies of an unhandled rejection inside its
  // security plugin (CouchDB answers the same and goes on), so nothing may come after it.
  test("a gateway's credentials cannot drop a database", async () => {
    expect((await call('gateway', 'stratus_models', { method: 'DELETE' })).status).toBe(401);
  });
});
