// One suite every Store must pass (PouchDB now, CouchDB in cluster mode), run once per adapter of the
// store registry. What the registry declares the adapter can do is checked too: a durable store keeps
// what was saved across a restart (the harness then gives `reopen`).
import { afterEach, describe, expect, test } from 'bun:test';
import { storeAdapter, type StoreName } from '../../../src/adapters/store/registry.ts';
import { DEFAULT_RETENTION, FEEDBACK_PER_SESSION, type NewFeedback, type PredictionResult, type RetentionPolicy, type Store } from '../../../src/adapters/store/store.ts';
import { imagesToText } from '../../../src/protocol/image.ts';

export interface StoreHarness {
  /** A store with this retention policy (the default one unless given). */
  open(retention?: RetentionPolicy): Promise<Store>;
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

    const open = async (retention?: RetentionPolicy) => {
      harness ??= await makeHarness();
      const store = await harness.open(retention);
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

    test('a version saved with model.onnx gives it back byte for byte; one saved without it has none', async () => {
      const store = await open();
      const modelJson = new TextEncoder().encode('{}');
      const weightsBin = new Uint8Array([1, 2, 3, 4]);
      // Every byte value, and more than one chunk of them: what an encoding could mangle.
      const modelOnnx = new Uint8Array(Array.from({ length: 70_000 }, (_, i) => (i * 7 + (i >> 8)) % 256));
      await store.saveModel({ version: 'with-onnx', createdAt: '2026-01-01T00:00:00.000Z' }, { modelJson, weightsBin, modelOnnx });
      await store.saveModel({ version: 'without-onnx', createdAt: '2026-01-02T00:00:00.000Z' }, { modelJson, weightsBin });
      const withOnnx = await store.loadModel('with-onnx');
      expect(withOnnx?.modelOnnx && Buffer.from(withOnnx.modelOnnx).equals(modelOnnx)).toBe(true);
      expect(withOnnx && [...withOnnx.weightsBin]).toEqual([...weightsBin]);
      const withoutOnnx = await store.loadModel('without-onnx');
      expect(withoutOnnx).not.toBeNull();
      expect(withoutOnnx && 'modelOnnx' in withoutOnnx).toBe(false);
      expect(withoutOnnx && [...withoutOnnx.modelJson]).toEqual([...modelJson]);
    });

    test('a deleted model version is gone with its files; deleting it again says there was none', async () => {
      const store = await open();
      const files = { modelJson: new TextEncoder().encode('{}'), weightsBin: new Uint8Array([1, 2, 3]) };
      await store.saveModel({ version: 'keep', createdAt: '2026-01-01T00:00:00.000Z' }, files);
      await store.saveModel({ version: 'gone', createdAt: '2026-01-02T00:00:00.000Z' }, files);
      expect(await store.deleteModel('gone')).toBe(true);
      expect(await store.deleteModel('gone')).toBe(false);
      expect(await store.loadModel('gone')).toBeNull();
      expect((await store.listModels()).map((m) => m.version)).toEqual(['keep']);
    });

    test('the serving version is null until set, then the last one set', async () => {
      const store = await open();
      expect(await store.getServingVersion()).toBeNull();
      await store.setServingVersion('v1');
      await store.setServingVersion('v2');
      expect(await store.getServingVersion()).toBe('v2');
    });

    const image = (seed: number) => Array.from({ length: 784 }, (_, i) => ((i * seed) % 256) / 255);
    const feedback = (pixels: readonly number[], label: number, second: number): NewFeedback => ({
      requestId: `r${second}`,
      label,
      predicted: 3,
      modelVersion: 'v1',
      pixels,
      createdAt: new Date(Date.UTC(2026, 2, 1, 0, 0, second)).toISOString(),
      sessionId: 'session-f',
    });

    test('feedback keeps its image at 8 bits, one sample per image (the last label wins), newest first', async () => {
      const store = await open();
      const first = await store.saveFeedback(feedback(image(3), 8, 1));
      const second = await store.saveFeedback(feedback(image(5), 5, 2));
      // The same digit labelled again, from another request: still one sample, with the later label.
      expect(await store.saveFeedback(feedback(image(3), 9, 3))).toBe(first);
      expect(second).not.toBe(first);
      const listed = await store.listFeedback(10);
      expect(listed.map((s) => [s.id, s.label])).toEqual([[first, 9], [second, 5]]);
      // A visitor's label (it has a session) waits for an admin's review.
      expect(listed[0]).toEqual({ ...feedback(image(3), 9, 3), id: first, state: 'pending' });
      expect((await store.listFeedback(1)).length).toBe(1);
      // Values between the 1/255 steps come back on the nearest step, as the model saw them.
      const between = image(7).map((value) => Math.min(1, value + 0.3 / 255));
      await store.saveFeedback(feedback(between, 1, 4));
      expect((await store.listFeedback(1))[0]!.pixels).toEqual(image(7));
    });

    test('a dozen answers for one digit at once all land, and one of them is kept', async () => {
      const store = await open();
      const answer = (label: number) => feedback(image(11), label, 9);
      await Promise.all(Array.from({ length: 12 }, (_, label) => store.saveFeedback(answer(label % 10))));
      const listed = await store.listFeedback(10);
      expect(listed.length).toBe(1);
      expect(listed[0]!.label).toBeGreaterThanOrEqual(0);
    });

    // Feedback from several visitors: `from(session, n)` is the n-th sample of a session (none: an
    // operator's import), each its own image, later n later in time.
    const from = (sessionId: string | undefined, n: number, label = n % 10): NewFeedback => ({
      requestId: `${sessionId ?? 'import'}-${n}`,
      label,
      predicted: 3,
      modelVersion: 'v1',
      pixels: Array.from({ length: 784 }, (_, i) => (i === n % 784 ? 1 : ((i * 7 + (sessionId?.length ?? 0)) % 256) / 255)),
      createdAt: new Date(Date.UTC(2026, 4, 1, 0, 0, 0, n)).toISOString(),
      ...(sessionId === undefined ? {} : { sessionId }),
    });
    const requestsOf = (samples: readonly { requestId: string }[], prefix: string) => samples.map((s) => s.requestId).filter((id) => id.startsWith(`${prefix}-`));

    test('one session flooding the feedback holds at most its share of what is listed; the others stay in', async () => {
      const store = await open();
      for (let n = 0; n < 3; n++) await store.saveFeedback(from('honest-a', n));
      for (let n = 3; n < 5; n++) await store.saveFeedback(from(undefined, n));
      // After them, newer than all of them: one client answering as fast as it may, eight at once.
      const flood = Array.from({ length: FEEDBACK_PER_SESSION + 16 }, (_, i) => from('flooder', 10 + i));
      const floodIds: string[] = [];
      for (let i = 0; i < flood.length; i += 8) floodIds.push(...(await Promise.all(flood.slice(i, i + 8).map((sample) => store.saveFeedback(sample)))));
      await store.saveFeedback(from('honest-b', 200));
      const listed = await store.listFeedback(1_000);
      const newestOfFlood = flood.slice(-FEEDBACK_PER_SESSION).map((sample) => sample.requestId).reverse();
      expect(requestsOf(listed, 'flooder')).toEqual(newestOfFlood);
      expect(requestsOf(listed, 'honest-a')).toEqual(['honest-a-2', 'honest-a-1', 'honest-a-0']);
      expect(requestsOf(listed, 'honest-b')).toEqual(['honest-b-200']);
      // An operator's imports have no session, and no share to stay within; they count as accepted.
      expect(requestsOf(listed, 'import')).toEqual(['import-4', 'import-3']);
      expect(listed.length).toBe(FEEDBACK_PER_SESSION + 6);
      expect((await store.listFeedback(4)).map((sample) => sample.requestId)).toEqual(['honest-b-200', ...newestOfFlood.slice(0, 3)]);

      // The share is counted in each state: the flood's oldest sample, accepted, is in what the trainer
      // reads, though the session's newer pending samples keep it out of the listing of every state.
      const oldest = await store.reviewFeedback(floodIds[0]!, flood[0]!.label, 'accepted');
      expect(oldest).toMatchObject({ requestId: 'flooder-10', state: 'accepted' });
      expect((await store.listFeedback(1_000, { state: 'accepted' })).map((sample) => sample.requestId)).toEqual(['flooder-10', 'import-4', 'import-3']);
      const pending = await store.listFeedback(1_000, { state: 'pending' });
      expect(pending.every((sample) => sample.state === 'pending')).toBe(true);
      expect([requestsOf(pending, 'flooder').length, requestsOf(pending, 'honest-a').length, requestsOf(pending, 'honest-b').length]).toEqual([FEEDBACK_PER_SESSION, 3, 1]);
    });

    test('an admin accepts or rejects a label only as it was seen; relabelling the same way keeps the review', async () => {
      const store = await open();
      const id = await store.saveFeedback(from('session-v', 1, 7));
      expect((await store.listFeedback(10, { state: 'pending' })).map((s) => [s.id, s.label])).toEqual([[id, 7]]);
      expect(await store.listFeedback(10, { state: 'accepted' })).toEqual([]);
      // The reviewer saw a 4, but the sample says 7 (relabelled meanwhile): nothing changes.
      expect(await store.reviewFeedback(id, 4, 'accepted')).toMatchObject({ id, label: 7, state: 'pending' });
      expect(await store.reviewFeedback(id, 7, 'accepted')).toMatchObject({ id, label: 7, state: 'accepted' });
      expect((await store.listFeedback(10, { state: 'accepted' })).map((s) => s.id)).toEqual([id]);
      // The same image labelled the same again (another click, another request): still accepted.
      await store.saveFeedback({ ...from('session-v', 1, 7), requestId: 'again', state: 'pending' });
      expect((await store.listFeedback(10))[0]).toMatchObject({ id, requestId: 'again', label: 7, state: 'accepted' });
      // Another label is another claim: pending again, until reviewed again.
      await store.saveFeedback(from('session-v', 1, 2));
      expect((await store.listFeedback(10))[0]).toMatchObject({ id, label: 2, state: 'pending' });
      expect(await store.reviewFeedback(id, 2, 'rejected')).toMatchObject({ id, label: 2, state: 'rejected' });
      expect((await store.listFeedback(10, { state: 'rejected' })).map((s) => s.id)).toEqual([id]);
      expect(await store.listFeedback(10, { state: 'pending' })).toEqual([]);
      // No such sample; and names that are the database's own, never a sample's.
      for (const missing of ['image-00000000000000000000000000000000', '_all_docs', '_design/x', '']) expect(await store.reviewFeedback(missing, 2, 'accepted')).toBeNull();
      // An operator's sample (no session) is taken as it is, unless saved otherwise.
      const imported = await store.saveFeedback(from(undefined, 2, 5));
      const held = await store.saveFeedback({ ...from(undefined, 3, 6), state: 'pending' });
      const states = new Map((await store.listFeedback(10)).map((s) => [s.id, s.state]));
      expect([states.get(imported), states.get(held)]).toEqual(['accepted', 'pending']);
    });

    test('a review racing a relabel never accepts the new label in the old one\'s place', async () => {
      const store = await open();
      for (let round = 0; round < 6; round++) {
        const id = await store.saveFeedback(from('session-race', round, 3));
        // The admin accepts the 3 they saw while the visitor changes it to 5: whichever lands first, the 5
        // is not accepted (accepted before the relabel, the relabel makes it pending again).
        await Promise.all([store.reviewFeedback(id, 3, 'accepted'), store.saveFeedback(from('session-race', round, 5))]);
        expect((await store.listFeedback(100)).find((s) => s.id === id)).toMatchObject({ label: 5, state: 'pending' });
      }
    });

    test('trimmed to its limit, the feedback loses a flooding session\'s surplus, then rejected and pending samples, never accepted ones first', async () => {
      // A limit of 10 and a share of 3, not 100,000 and 64: the order of the trim is what is tested.
      const store = await open({ ...DEFAULT_RETENTION, feedbackLimit: 10, feedbackPerSession: 3 });
      // Oldest first: two imports (accepted), a visitor with one accepted and two pending, one rejected.
      for (const n of [0, 1]) await store.saveFeedback(from(undefined, n));
      const honest = [];
      for (const n of [2, 3, 4]) honest.push(await store.saveFeedback(from('honest', n)));
      await store.reviewFeedback(honest[0]!, from('honest', 2).label, 'accepted');
      const spam = await store.saveFeedback(from('other', 5));
      await store.reviewFeedback(spam, from('other', 5).label, 'rejected');
      // Then, newest of all, a flood of ten from one session.
      for (let n = 10; n < 20; n++) await store.saveFeedback(from('flooder', n));
      await store.sweep();
      // 16 over a limit of 10 go down to 9 (the trim leaves room): the flood's seven past its share first.
      // (The store's own sweeps may have trimmed part of it already, in the same order.)
      const afterFlood = await store.listFeedback(100);
      expect(requestsOf(afterFlood, 'flooder')).toEqual(['flooder-19', 'flooder-18', 'flooder-17']);
      expect(afterFlood.map((s) => s.requestId).filter((id) => !id.startsWith('flooder-')).sort()).toEqual(['honest-2', 'honest-3', 'honest-4', 'import-0', 'import-1', 'other-5']);
      // Three newcomers take it over the limit again, with no session past its share: the rejected sample
      // goes, then the oldest pending; the accepted ones stay, though older than all.
      for (let n = 30; n < 33; n++) await store.saveFeedback(from('newcomer', n));
      await store.sweep();
      const kept = await store.listFeedback(100);
      expect(kept.length).toBeLessThanOrEqual(10);
      const requests = kept.map((s) => s.requestId);
      expect(requests).toEqual(expect.arrayContaining(['import-0', 'import-1', 'honest-2', 'newcomer-30', 'newcomer-31', 'newcomer-32', 'flooder-19', 'flooder-18', 'flooder-17']));
      expect(requests).not.toContain('other-5');
      expect(requests).not.toContain('honest-3');
    });

    test('a result stored with its images gives them back', async () => {
      const store = await open();
      const images = imagesToText(Float32Array.from(image(13)));
      const saved = result({ sessionId: 'session-i', images });
      await store.saveResults([saved]);
      expect((await store.getResult(saved.id))?.images).toBe(images);
      expect((await store.sessionHistory('session-i', 1))[0]?.images).toBe(images);
    });

    test('results and history past the retention are gone after a sweep; those within it stay', async () => {
      // A minute, not the 30 days users get: the same periods and sweep, at a scale a test can step past.
      const retention = { ...DEFAULT_RETENTION, retentionMs: 60_000 };
      const store = await open(retention);
      const saved = [result({ sessionId: 'session-t' }), result({ sessionId: 'session-t' }), result()];
      await store.saveResults(saved);
      const soon = await store.sweep(Date.now() + 30_000);
      expect(soon.databasesDropped).toBe(0);
      expect(await store.getResult(saved[2]!.id)).toEqual(saved[2]!);
      // A period past the retention, plus the grace the sweep leaves readers, is dropped whole.
      const later = await store.sweep(Date.now() + 2 * retention.retentionMs);
      expect(later.databasesDropped).toBeGreaterThanOrEqual(2);
      for (const one of saved) expect(await store.getResult(one.id)).toBeNull();
      expect(await store.sessionHistory('session-t', 10)).toEqual([]);
      // The store goes on: a new result is kept.
      const fresh = result({ sessionId: 'session-t' });
      expect(await store.saveResults([fresh])).toEqual(['created']);
      expect((await store.sessionHistory('session-t', 10)).map((r) => r.id)).toEqual([fresh.id]);
    });

    test('a session lists at most the history limit, newest first; clearing it removes every entry', async () => {
      // A limit of 10, not the 100 users get: the limit is what is tested, with fewer entries to write.
      const store = await open({ ...DEFAULT_RETENTION, historyLimit: 10 });
      const made = Array.from({ length: 30 }, (_, i) => result({ sessionId: 'session-l', createdAt: new Date(Date.UTC(2026, 3, 1, 0, 0, i)).toISOString() }));
      await store.saveResults(made.slice(0, 12));
      await store.saveResults(made.slice(12));
      const listed = await store.sessionHistory('session-l', 50);
      expect(listed).toEqual(made.slice(20).reverse());
      expect((await store.sessionHistory('session-l', 3)).map((r) => r.id)).toEqual(made.slice(27).reverse().map((r) => r.id));
      await store.sweep();
      expect(await store.sessionHistory('session-l', 50)).toEqual(listed);
      // All thirty entries are cleared, not only the ten listed; the results themselves stay.
      expect(await store.clearSession('session-l')).toBe(30);
      expect(await store.sessionHistory('session-l', 50)).toEqual([]);
      expect(await store.getResult(made[0]!.id)).toEqual(made[0]!);
    });

    test('feedback beyond its limit loses the oldest samples at a sweep, not by age', async () => {
      // 10 samples, not the 100,000 users keep; a 1 s retention, not 30 days, to show feedback outlives it.
      const store = await open({ ...DEFAULT_RETENTION, retentionMs: 1_000, feedbackLimit: 10 });
      for (let i = 0; i < 14; i++) await store.saveFeedback(feedback(image(i + 20), i % 10, i));
      const report = await store.sweep(Date.now() + 86_400_000);
      // Retention 1 s: the store's own sweeps run every second and may have trimmed some first.
      expect(report.feedbackTrimmed).toBeLessThanOrEqual(5);
      const kept = await store.listFeedback(100);
      expect(kept.map((s) => s.requestId)).toEqual(Array.from({ length: 9 }, (_, i) => `r${13 - i}`));
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
