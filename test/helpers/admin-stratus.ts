// A local Stratus with the admin endpoints on (STRATUS_ADMIN_TOKEN set) and a store the test can fill
// with model versions, for the dashboard's tests. The versions carry the real default model's files,
// so a consumer told to serve one of them really loads it.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { PouchStore } from '../../src/adapters/store/pouch-store.ts';
import type { ModelVersion } from '../../src/adapters/store/store.ts';
import type { Running } from '../../src/runtime.ts';
import { startLocal } from './local-stratus.ts';
import { REPO } from './process.ts';

export interface AdminStratus extends Running {
  readonly url: string;
  readonly store: PouchStore;
  readonly token: string;
}

export async function startWithAdmin(): Promise<AdminStratus> {
  const token = `test-${crypto.randomUUID()}`;
  const store = new PouchStore({ adapter: 'memory', directory: `dashboard-${crypto.randomUUID()}` });
  const running = await startLocal([], { store }, { STRATUS_ADMIN_TOKEN: token });
  return { ...running, store, token };
}

const DEFAULT_MODEL = resolve(REPO, 'models/embedded');

/**
 * Stores `meta` with the default model's files; `zeroWeights` keeps the shapes and zeroes every weight, a
 * model that loads and then fails the consumer's smoke check.
 */
export async function storeModel(store: PouchStore, meta: ModelVersion, options: { zeroWeights?: boolean } = {}): Promise<void> {
  const weights = new Uint8Array(readFileSync(resolve(DEFAULT_MODEL, 'weights.bin')));
  await store.saveModel(meta, {
    modelJson: new Uint8Array(readFileSync(resolve(DEFAULT_MODEL, 'model.json'))),
    weightsBin: options.zeroWeights ? new Uint8Array(weights.length) : weights,
  });
}

/** A report.json-shaped metrics object, as the trainer stores it. */
export function trainingMetrics(testAccuracy: number, epochs: number): Record<string, unknown> {
  const matrix = Array.from({ length: 10 }, (_, a) => Array.from({ length: 10 }, (_, p) => (a === p ? 980 : (a + p) % 4)));
  return {
    kind: 'stratus-training-report',
    arch: 'default',
    params: 225034,
    testSamples: 10000,
    testAccuracy,
    validationAccuracy: testAccuracy - 0.001,
    perClassAccuracy: Array.from({ length: 10 }, (_, d) => 0.98 + d / 1000),
    confusionMatrix: matrix,
    trainedAt: '2026-11-25T14:03:58.407Z',
    history: Array.from({ length: epochs }, (_, i) => ({
      epoch: i + 1,
      learningRate: 0.001 * 0.7 ** i,
      loss: 0.4 / (i + 1),
      accuracy: 0.9 + i / 100,
      valLoss: 0.3 / (i + 1),
      valAccuracy: 0.95 + i / 200,
      seconds: 100,
      samplesPerSecond: 540,
    })),
  };
}
