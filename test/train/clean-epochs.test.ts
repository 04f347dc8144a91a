// --clean-epochs: the last epochs of an augmented run train on the images as they are. Proven by the
// weights: a run whose every epoch is clean ends exactly where a run without augmentation does, and a
// run with one clean epoch of two ends somewhere else than both. On one thread and on worker threads,
// whose workers are told per epoch.
import { describe, expect, test } from 'bun:test';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TrainingReport } from '../../src/train/report.ts';
import { TRAIN_DEFAULTS, type Spread, type TrainRecipe } from '../../src/train/recipe.ts';
import { runTraining } from '../../src/train/run.ts';
import { MNIST_DIR } from '../helpers/data.ts';

const SPREADS: Record<string, Spread | undefined> = {
  'one thread': undefined,
  'two worker threads': { kind: 'worker-threads', workers: 2, sync: 'gradients', syncEvery: 1 },
};

interface Trained {
  readonly weights: Uint8Array;
  readonly report: TrainingReport;
}

async function train(spread: Spread | undefined, settings: Pick<TrainRecipe, 'augment' | 'cleanEpochs'>): Promise<Trained> {
  const outDir = await mkdtemp(join(tmpdir(), 'stratus-clean-epochs-'));
  try {
    const recipe: TrainRecipe = { ...TRAIN_DEFAULTS, mnistDir: MNIST_DIR, arch: 'seed', epochs: 2, maxSamples: 1000, outDir, ...settings, ...(spread ? { spread } : {}) };
    expect(await runTraining(recipe, {}, () => {})).not.toBeNull();
    return {
      weights: new Uint8Array(await Bun.file(join(outDir, 'weights.bin')).arrayBuffer()),
      report: (await Bun.file(join(outDir, 'report.json')).json()) as TrainingReport,
    };
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const same = (a: Trained, b: Trained) => Buffer.from(a.weights).equals(Buffer.from(b.weights));

describe.each(Object.entries(SPREADS))('--clean-epochs, %s', (_name, spread) => {
  test('every epoch clean trains as no augmentation does; one clean epoch of two trains otherwise than both', async () => {
    const plain = await train(spread, { augment: false });
    const allClean = await train(spread, { augment: true, cleanEpochs: 2 });
    const lastClean = await train(spread, { augment: true, cleanEpochs: 1 });
    const noneClean = await train(spread, { augment: true, cleanEpochs: 0 });
    expect(same(allClean, plain)).toBe(true);
    expect(same(lastClean, plain)).toBe(false);
    expect(same(lastClean, noneClean)).toBe(false);
    // The report says how the run was trained; a run without clean epochs says nothing of them.
    expect(lastClean.report.hyperParameters).toMatchObject({ augment: true, cleanEpochs: 1 });
    expect(noneClean.report.hyperParameters.cleanEpochs).toBeUndefined();
  }, 120_000);
});
