// One suite every Store must pass (PouchDB now, CouchDB in cluster mode), run once per adapter of the
// store registry. What the registry declares the adapter can do is checked too: a durable store keeps
// what was saved across a restart (the harness then gives `reopen`).
import { afterEach, describe, expect, test } from 'bun:test';
import { storeAdapter, type StoreName } from '../../../src/adapters/store/registry.ts';
import type { PredictionResult, Store } from '../../../src/adapters/store/store.ts';

export interface StoreHarness {
  open(): Promise<Store>;
  /** After the first store was closed: a new one on the same data, as a restarted process would open. */
  reopen?(): Promise<Store>;
  teardown(): Promise<void>;
}

let sequence = 0;
function result(overrides: Partial<PredictionResult> = {}): PredictionResult {
  sequence++;
  return {
    id: `req-${Date.now()}-${sequence}`,
    digits: [sequence % 10],
    probabilities: [Array.from({ length: 10 }, (_, d) => (d === sequence % 10 ? 0.91 : 0.01))],
    modelVersion: 'v-test',
    createdAt: new Date(Date.UTC(2026, 0, 1, 0, 0, sequence % 60, sequence)).toISOString(),
    ...overrides,
  };
}

/** `adapter`: the registry name whose declared capabilities this store must live up to. */
export function runStoreConformance(name: string, adapter: StoreName, makeHarness: () => Promise<StoreHarness>): void {
  const { capabilities } = storeAdapter(adapter);
  describe(`Store conformance: ${name}`, () => {
    let harness: StoreHarness | null = null;
    let stores: Store[] = [];

    const open = async () => {
      harness ??= await makeHarness();
      const store = await harness.open();
      stores.push(store);
      return store;
    };

    afterEach(async () => {
      for (const store of stores) if (store.healthy()) await store.close();
      stores = [];
      await harness?.teardown();
      harness = null;
    });

    test('a saved result reads back whole', async () => {
      const store = await open();
      const saved = result({ digits: [4, 2], probabilities: [[...Array(10).fill(0.1)], [...Array(10).fill(0.1)]] });
      expect(await store.saveResults([saved])).toEqual(['created']);
      expect(await store.getResult(saved.id)).toEqual(saved);
      expect(await store.getResult('no-such-request')).toBeNull();
    });

    test('saving the same request id twice keeps the first result', async () => {
      const store = await open();
      const first = result();
      const redelivered = { ...first, digits: [9], modelVersion: 'other' };
      const fresh = result();
      expect(await store.saveResults([first])).toEqual(['created']);
      expect(await store.saveResults([redelivered, fresh])).toEqual(['exists', 'created']);
      expect(await store.getResult(first.id)).toEqual(first);
    });

    test('session history is newest first, limited, and per session', async () => {
      const store = await open();
      const mine = [0, 1, 2, 3].map((i) =>
        result({ sessionId: 'session-a', createdAt: new Date(Date.UTC(2026, 1, 1, 0, 0, i)).toISOString() }),
      );
      const theirs = result({ sessionId: 'session-b' });
      const anonymous = result();
      await store.saveResults([mine[2]!, mine[0]!, theirs, mine[3]!, anonymous, mine[1]!]);
      const history = await store.sessionHistory('session-a', 3);
      expect(history.map((r) => r.id)).toEqual([mine[3]!.id, mine[2]!.id, mine[1]!.id]);
      expect((await store.sessionHistory('session-b', 10)).map((r) => r.id)).toEqual([theirs.id]);
      expect(await store.sessionHistory('session-none', 10)).toEqual([]);
    });

    test('a redelivered result does not appear twice in its session', async () => {
      const store = await open();
      const once = result({ sessionId: 'session-r' });
      await store.saveResults([once]);
      await store.saveResults([{ ...once, createdAt: new Date().toISOString() }]);
      expect((await store.sessionHistory('session-r', 10)).length).toBe(1);
    });

    test('clearing a session forgets its history and keeps the results', async () => {
      const store = await open();
      const kept = [result({ sessionId: 'session-c' }), result({ sessionId: 'session-c' })];
      const other = result({ sessionId: 'session-d' });
      await store.saveResults([...kept, other]);
      expect(await store.clearSession('session-c')).toBe(2);
      expect(await store.sessionHistory('session-c', 10)).toEqual([]);
      expect((await store.sessionHistory('session-d', 10)).length).toBe(1);
      expect(await store.getResult(kept[0]!.id)).toEqual(kept[0]!);
      expect(await store.clearSession('session-c')).toBe(0);
    });

    test('model versions keep their files byte for byte and list newest first', async () => {
      const store = await open();
      const modelJson = new TextEncoder().encode(JSON.stringify({ format: 'layers-model', n: 1 }));
      const weightsBin = new Uint8Array(Array.from({ length: 4096 }, (_, i) => (i * 31) % 256));
      const older = { version: 'v1', createdAt: '2026-01-01T00:00:00.000Z', metrics: { testAccuracy: 0.98 } };
      const newer = { version: 'v2', createdAt: '2026-02-01T00:00:00.000Z' };
      expect(await store.saveModel(older, { modelJson, weightsBin })).toBe('created');
      expect(await store.saveModel(newer, { modelJson, weightsBin })).toBe('created');
      expect(await store.saveModel(older, { modelJson, weightsBin })).toBe('exists');
      expect(await store.listModels()).toEqual([newer, older]);
      const files = await store.loadModel('v1');
      expect(files && [...files.modelJson]).toEqual([...modelJson]);
      expect(files && [...files.weightsBin]).toEqual([...weightsBin]);
      expect(await store.loadModel('v404')).toBeNull();
    });

    test('the serving version is null until set, then the last one set', async () => {
      const store = await open();
      expect(await store.getServingVersion()).toBeNull();
      await store.setServingVersion('v1');
      await store.setServingVersion('v2');
      expect(await store.getServingVersion()).toBe('v2');
    });

    test('feedback is kept with its pixels, replaced by a second answer, listed newest first', async () => {
      const store = await open();
      const pixels = Array.from({ length: 784 }, (_, i) => (i % 7) / 7);
      const sample = (id: string, label: number, second: number) => ({
        id,
        requestId: id.split('/')[0]!,
        label,
        predicted: 3,
        modelVersion: 'v1',
        pixels,
        createdAt: new Date(Date.UTC(2026, 2, 1, 0, 0, second)).toISOString(),
        sessionId: 'session-f',
      });
      await store.saveFeedback(sample('r1/0', 8, 1));
      await store.saveFeedback(sample('r2/0', 5, 2));
      await store.saveFeedback(sample('r1/0', 9, 3));
      const listed = await store.listFeedback(10);
      expect(listed.map((s) => [s.id, s.label])).toEqual([['r1/0', 9], ['r2/0', 5]]);
      expect(listed[0]).toEqual(sample('r1/0', 9, 3));
      expect((await store.listFeedback(1)).length).toBe(1);
    });

    test('a dozen answers for one digit at once all land, and one of them is kept', async () => {
      const store = await open();
      const answer = (label: number) => ({ id: 'r9/0', requestId: 'r9', label, predicted: 3, modelVersion: 'v1', pixels: [], createdAt: new Date().toISOString(), sessionId: 'session-g' });
      await Promise.all(Array.from({ length: 12 }, (_, label) => store.saveFeedback(answer(label % 10))));
      const listed = await store.listFeedback(10);
      expect(listed.length).toBe(1);
      expect(listed[0]!.label).toBeGreaterThanOrEqual(0);
    });

    test('a batch of many results stores every one', async () => {
      const store = await open();
      const batch = Array.from({ length: 256 }, () => result({ sessionId: 'session-big' }));
      const outcomes = await store.saveResults(batch);
      expect(outcomes.every((o) => o === 'created')).toBe(true);
      const sample = await Promise.all([0, 100, 255].map((i) => store.getResult(batch[i]!.id)));
      expect(sample).toEqual([batch[0]!, batch[100]!, batch[255]!]);
    });

    test(`names itself as the registry does (${adapter})`, async () => {
      expect((await open()).name).toBe(adapter);
    });

    test('a closed store says so and refuses work', async () => {
      const store = await open();
      expect(store.healthy()).toBe(true);
      await store.close();
      expect(store.healthy()).toBe(false);
      await expect(store.getResult('x')).rejects.toThrow(/closed/);
    });

    test(`what was saved ${capabilities.durable ? 'survives' : 'need not survive'} a restart (declared durable: ${capabilities.durable})`, async () => {
      const store = await open();
      expect(harness?.reopen !== undefined).toBe(capabilities.durable);
      if (!harness?.reopen) return;
      const saved = result({ sessionId: 'session-durable' });
      await store.saveResults([saved]);
      await store.close();
      const again = await harness.reopen();
      stores.push(again);
      expect(await again.getResult(saved.id)).toEqual(saved);
      expect((await again.sessionHistory('session-durable', 5)).map((r) => r.id)).toEqual([saved.id]);
    });
  });
}
