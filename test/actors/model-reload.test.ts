// The consumer's side of the registry contract, in one process with real models: which version it
// serves at start (the store's serving version, unless --model is given), that a model.updated
// message on the transport, as any gateway or trainer in the cluster would send it, switches it, and that
// a version's stored model.onnx is what the onnx engine loads and smoke-checks.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodeBatch, encodeJson, type ModelUpdated, type PredictionReply } from '../../src/protocol/messages.ts';
import { TOPIC } from '../../src/protocol/topics.ts';
import { onlyReply } from '../helpers/prediction-messages.ts';
import { MemoryBroker, MemoryTransport } from '../../src/adapters/transport/memory-transport.ts';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import { loadSplit, type MnistSplit } from '../../src/train/mnist.ts';
import { exportToOnnx } from '../../src/model/onnx/export-onnx.ts';
import { initWasmBackend } from '../../src/model/wasm-backend.ts';
import { buildModel } from '../../src/train/architectures.ts';
import { MNIST_DIR } from '../helpers/data.ts';
import { startLocal } from '../helpers/local-stratus.ts';
import { modelSourceOf } from '../helpers/onnx-comparison.ts';
import { REPO } from '../helpers/process.ts';
import { waitFor } from '../helpers/wait.ts';

const MODEL_JSON = new Uint8Array(readFileSync(resolve(REPO, 'models/embedded/model.json')));
const WEIGHTS = new Uint8Array(readFileSync(resolve(REPO, 'models/embedded/weights.bin')));

describe('consumer and the model registry', () => {
  const broker = new MemoryBroker({ maxAttempts: 2, retryDelayMs: 5 });
  const client = new MemoryTransport(broker);
  let mnist: MnistSplit;
  const pinnedDir = mkdtempSync(join(tmpdir(), 'stratus-pinned-'));

  beforeAll(async () => {
    mnist = loadSplit(MNIST_DIR, 'test');
    await client.start();
    writeFileSync(join(pinnedDir, 'model.json'), MODEL_JSON);
    writeFileSync(join(pinnedDir, 'weights.bin'), WEIGHTS);
    writeFileSync(join(pinnedDir, 'metadata.json'), JSON.stringify({ version: 'pinned' }));
  });
  afterAll(async () => {
    await client.close();
    rmSync(pinnedDir, { recursive: true, force: true });
  });

  /** A store holding two versions, `serving` chosen; the process that gets it closes it when it stops. */
  const storeServing = async (serving: string): Promise<PouchStore> => {
    const store = new PouchStore({ adapter: 'memory', directory: `model-reload-${crypto.randomUUID()}` });
    await store.open();
    // The same network under three names (with --model's): what differs is the version each is served as.
    for (const version of ['stored-a', 'stored-b']) {
      await store.saveModel({ version, createdAt: new Date().toISOString() }, { modelJson: MODEL_JSON, weightsBin: WEIGHTS });
    }
    await store.setServingVersion(serving);
    return store;
  };
  const ask = async (i: number): Promise<PredictionReply> => {
    const id = crypto.randomUUID();
    const pixels = mnist.images.slice(i * 784, (i + 1) * 784);
    const reply = await client.request(TOPIC.predictions, { key: id, value: encodeBatch([{ id, count: 1, pixels, sentAt: Date.now() }]) }, 10_000);
    return onlyReply(reply.value);
  };
  const announce = (version: string) => {
    const message: ModelUpdated = { version };
    return client.publish(TOPIC.modelUpdated, { key: 'serving', value: encodeJson(message) });
  };
  const reloads = async (metricsUrl: string) => (await (await fetch(`${metricsUrl}/metrics`)).text()).match(/^stratus_model_reloads_total\{.*$/gm) ?? [];

  test('at start the store’s serving version serves from the first answer', async () => {
    const stratus = await startLocal([], { transport: new MemoryTransport(broker), store: await storeServing('stored-a') });
    try {
      const reply = await ask(0);
      expect(reply.modelVersion).toBe('stored-a');
      expect(reply.digits).toEqual([mnist.labels[0] as number]);
    } finally {
      await stratus.stop();
    }
  }, 30_000);

  for (const inference of ['worker', 'main']) {
    test(`--model wins at start; model.updated then switches it (--inference ${inference})`, async () => {
      const store = await storeServing('stored-a');
      const stratus = await startLocal(['--model', pinnedDir, '--inference', inference], { transport: new MemoryTransport(broker), store });
      try {
        expect((await ask(1)).modelVersion).toBe('pinned');
        await announce('stored-b');
        await waitFor(async () => (await ask(2)).modelVersion === 'stored-b', 15_000);
        const reply = await ask(3);
        expect(reply.digits).toEqual([mnist.labels[3] as number]);

        // A version the store does not have is refused; the one serving stays.
        await announce('never-stored');
        await waitFor(async () => (await reloads(stratus.url)).some((line) => line.includes('outcome="missing"} 1')), 10_000);
        expect((await ask(4)).modelVersion).toBe('stored-b');
        expect(await reloads(stratus.url)).toContain('stratus_model_reloads_total{outcome="loaded"} 1');
      } finally {
        await stratus.stop();
      }
    }, 30_000);
  }

  test('a stored model.onnx is what the onnx engine loads and smoke-checks: one that reads no digits is refused, though its tfjs files would pass', async () => {
    await initWasmBackend();
    const untrained = buildModel('lean', 3);
    const untrainedOnnx = exportToOnnx(await modelSourceOf(untrained, 'untrained')).bytes;
    untrained.dispose();
    const store = await storeServing('stored-a');
    // Both carry the embedded model's tfjs files; only their model.onnx differs.
    const files = { modelJson: MODEL_JSON, weightsBin: WEIGHTS };
    const createdAt = new Date().toISOString();
    await store.saveModel({ version: 'onnx-exported', createdAt }, { ...files, modelOnnx: exportToOnnx({ version: 'onnx-exported', ...files }).bytes });
    await store.saveModel({ version: 'onnx-untrained', createdAt }, { ...files, modelOnnx: untrainedOnnx });
    const stratus = await startLocal(['--engine', 'onnx'], { transport: new MemoryTransport(broker), store });
    try {
      expect(await (await fetch(`${stratus.url}/metrics`)).text()).toContain('stratus_inference_engine{engine="onnx"} 1');
      await announce('onnx-exported');
      await waitFor(async () => (await ask(5)).modelVersion === 'onnx-exported', 15_000);
      expect((await ask(6)).digits).toEqual([mnist.labels[6] as number]);

      await announce('onnx-untrained');
      await waitFor(async () => (await reloads(stratus.url)).some((line) => line.includes('outcome="smoke_failed"} 1')), 15_000);
      expect((await ask(7)).modelVersion).toBe('onnx-exported');
    } finally {
      await stratus.stop();
    }
  }, 30_000);
});
