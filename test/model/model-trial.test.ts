// The trial load a published version passes before it is stored (model-trial.ts): a real `stratus model
// trial` process, its resident memory watched against the cap. The publish limits keep every model far
// under the default cap, so a refusal is shown with a cap below what the runtime itself needs.
import { describe, expect, test } from 'bun:test';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { ModelLimitError, publishableFiles } from '../../src/model/model-limits.ts';
import { ModelRegistry } from '../../src/model/model-registry.ts';
import { DEFAULT_TRIAL_MEMORY_MB, trialLoad, trialUnder } from '../../src/model/model-trial.ts';
import { readEmbeddedVersion } from '../../src/model/publish.ts';
import { MAIN, runToEnd } from '../helpers/process.ts';

const embedded = await readEmbeddedVersion();
const publishable = publishableFiles(embedded.meta.version, embedded.files);

describe('the trial load', () => {
  test('the embedded model loads and answers within the default cap', async () => {
    await trialLoad('trial-ok', publishable, { memoryMb: DEFAULT_TRIAL_MEMORY_MB });
  }, 60_000);

  test('past the cap the trial is killed and the model refused, saying so', async () => {
    const trial = trialLoad('trial-big', publishable, { memoryMb: 64 });
    await expect(trial).rejects.toBeInstanceOf(ModelLimitError);
    await expect(trial).rejects.toThrow('model trial-big failed its trial load: it took more than 64 MB');
  }, 60_000);

  test('a registry whose trial refuses stores nothing and serves nothing', async () => {
    const store = new PouchStore({ adapter: 'memory', directory: `trial-${crypto.randomUUID()}` });
    await store.open();
    const transport = new MemoryTransport();
    try {
      const registry = new ModelRegistry(store, transport, trialUnder(64));
      const meta = { ...embedded.meta, version: 'refused-at-trial' };
      await expect(registry.publish(meta, embedded.files)).rejects.toThrow(/failed its trial load: it took more than 64 MB/);
      expect((await registry.list()).map((model) => model.version)).not.toContain('refused-at-trial');
      expect(await registry.selected()).toBeNull();
    } finally {
      await transport.close();
      await store.close();
    }
  }, 60_000);

  test('`stratus model trial` says what answered, in one JSON line', async () => {
    const { code, stdout, stderr } = await runToEnd(['bun', MAIN, 'model', 'trial', '--model', 'models/embedded']);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(JSON.parse(stdout)).toMatchObject({ version: embedded.meta.version, smokeCorrect: expect.any(Number) });
  }, 60_000);
});
