// Feedback on a page prediction works wherever and whenever the visitor answers within the retention:
// after the gateway restarted (local mode, on disk), and from another gateway than the one that
// predicted (cluster mode). The images travel with the stored result, not in a gateway's memory.
import { afterAll, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CouchStore } from '../../src/adapters/store/couch/couch-store.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { Store } from '../../src/adapters/store/store.ts';
import { clusterServices } from '../helpers/cluster-services.ts';
import { select } from '../helpers/html.ts';
import { postJson, startLocal } from '../helpers/local-stratus.ts';
import { waitFor } from '../helpers/wait.ts';
import { ProcessGroup, withLogs } from './cluster-processes.ts';

const scratch = await mkdtemp(join(tmpdir(), 'stratus-feedback-e2e-'));
afterAll(() => rm(scratch, { recursive: true, force: true }));

/** A "1": one vertical stroke on a 500×200 canvas. */
const one = { width: 500, height: 200, strokes: [Array.from({ length: 29 }, (_, i) => ({ x: 100, y: 30 + i * 5 }))] };

/** The page's POSTs, as the browser sends them to `base`. */
const pagePost = (base: string, path: string, body: unknown, cookie: string) =>
  postJson(`${base}${path}`, body, { cookie, origin: base, 'sec-fetch-site': 'same-origin' });

/** A visitor's session on `base` and one prediction made there: the cookie, the request id, the buttons' values. */
async function predictOnPage(base: string): Promise<{ cookie: string; vals: Record<string, string> }> {
  const opened = await fetch(`${base}/`);
  const cookie = (opened.headers.get('set-cookie') ?? '').split(';')[0] as string;
  expect(cookie).toMatch(/^stratus_session=/);
  const predicted = await pagePost(base, '/page/predict', { drawing: one }, cookie);
  expect(predicted.status).toBe(200);
  const buttons = select(await predicted.text(), '#history .digit-feedback[data-position="0"] button[aria-label="it was a 7"]');
  expect(buttons).toHaveLength(1);
  return { cookie, vals: JSON.parse(buttons[0]?.attributes['hx-vals'] ?? '') };
}

async function labelledAs(store: Store, requestId: string): Promise<number | null> {
  return (await store.listFeedback(1_000)).find((sample) => sample.requestId === requestId)?.label ?? null;
}

test('local mode: feedback on a prediction made before the gateway restarted is recorded', async () => {
  const dataDir = join(scratch, 'local');
  const flags = ['--store', 'pouchdb', '--data-dir', dataDir];
  const before = await startLocal(flags);
  const { cookie, vals } = await predictOnPage(before.url);
  await before.stop();

  const after = await startLocal(flags);
  try {
    // The history the page shows after the restart still offers feedback on it.
    const page = await (await fetch(`${after.url}/`, { headers: { cookie } })).text();
    expect(select(page, `#history > [data-id="${vals.request}"] .digit-feedback`)).toHaveLength(1);
    const answered = await pagePost(after.url, '/page/feedback', vals, cookie);
    expect(answered.status).toBe(200);
    expect(select(await answered.text(), '.fb-recorded')[0]?.text).toBe('thanks: sent as a 7, for review');
  } finally {
    await after.stop();
  }
  const store = new PouchStore({ adapter: 'leveldb', directory: join(dataDir, 'store') });
  await store.open();
  try {
    expect(await labelledAs(store, vals.request as string)).toBe(7);
  } finally {
    await store.close();
  }
}, 60_000);

const services = await clusterServices();
(services ? test : test.skip)('cluster mode: feedback sent to another gateway than the one that predicted is recorded', async () => {
  if (!services) return;
  const target = { kafkaBrokers: services.kafkaBrokers, couchdbUrl: services.couchdbUrl, prefix: `feedback_${Date.now()}_`, replication: 1 };
  const group = new ProcessGroup();
  const store = new CouchStore({ url: target.couchdbUrl, prefix: target.prefix });
  try {
    const consumer = group.start('consumer', target);
    const [first, second] = [group.start('gateway', target), group.start('gateway', target)];
    await withLogs(group, () => Promise.all([consumer, first!, second!].map((role) => role.waitReady())));
    const { cookie, vals } = await predictOnPage(first!.url);
    await store.open();
    // The consumer replies before its write lands; the visitor's click comes later than that.
    await waitFor(async () => (await store.getResult(vals.request as string)) !== null, 10_000);
    const answered = await pagePost(second!.url, '/page/feedback', vals, cookie);
    expect(answered.status).toBe(200);
    expect(await labelledAs(store, vals.request as string)).toBe(7);
    // Another visitor cannot label it, through either gateway.
    const stranger = (await fetch(`${second!.url}/`)).headers.get('set-cookie')?.split(';')[0] as string;
    expect((await pagePost(second!.url, '/page/feedback', vals, stranger)).status).toBe(410);
  } finally {
    await store.close();
    await group.dispose();
  }
}, 180_000);
