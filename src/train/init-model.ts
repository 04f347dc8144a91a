// The model a run starts from: the arch's seeded initial weights or, with --init-model, those of a model
// directory (fine-tuning). Every way of training builds it here, so every worker and rank starts equal.
import type * as tf from '@tensorflow/tfjs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ArchName } from './arch-names.ts';
import { buildModel } from './architectures.ts';
import { reloadModel, type ModelFiles } from './save-model.ts';

export async function buildModelToTrain(arch: ArchName, seed: number, initModel: string | null | undefined): Promise<tf.LayersModel> {
  const model = buildModel(arch, seed);
  if (initModel === null || initModel === undefined) return model;
  try {
    await copyWeightsFrom(initModel, model);
    return model;
  } catch (error) {
    model.dispose();
    throw error;
  }
}

/**
 * Building the arch and copying the directory's weights into it, rather than training the loaded model
 * itself, makes a directory of another arch fail here (shapes differ), not later.
 */
async function copyWeightsFrom(dir: string, model: tf.LayersModel): Promise<void> {
  const modelJson = JSON.parse(await readFile(join(dir, 'model.json'), 'utf8')) as ModelFiles['modelJson'];
  const source = await reloadModel({ modelJson, weights: new Uint8Array(await readFile(join(dir, 'weights.bin'))) });
  try {
    const values = source.getWeights();
    const expected = model.getWeights();
    if (values.length !== expected.length || values.some((v, i) => v.shape.join() !== expected[i]!.shape.join())) {
      throw new Error(`--init-model ${dir} is not a ${model.name.replace(/^stratus_/, '')} model (its weights have other shapes)`);
    }
    model.setWeights(values);
  } finally {
    source.dispose();
  }
}
