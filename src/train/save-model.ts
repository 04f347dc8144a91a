// Turns a trained model into the files `--model DIR` serves: model.json, weights.bin, metadata.json
// (the layout of models/embedded/), plus report.json, which only people and tools read.
import * as tf from '@tensorflow/tfjs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ModelFiles {
  readonly modelJson: { modelTopology: object; weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] } & Record<string, unknown>;
  readonly weights: Uint8Array;
}

export async function serializeModel(model: tf.LayersModel): Promise<ModelFiles> {
  // Save through a handler rather than the file:// router, which only tfjs-node registers.
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (saved) => {
      artifacts = saved;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  if (!artifacts?.weightSpecs || !artifacts.weightData || !artifacts.modelTopology) throw new Error('model.save produced no weights');
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version.tfjs}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology as object,
      weightsManifest: [{ paths: ['weights.bin'], weights: artifacts.weightSpecs }],
    },
    weights: new Uint8Array(tf.io.CompositeArrayBuffer.join(artifacts.weightData)),
  };
}

/** Loads the files back, the way the consumer will, to prove they round-trip before they are written. */
export function reloadModel(files: ModelFiles): Promise<tf.LayersModel> {
  const weightSpecs = files.modelJson.weightsManifest.flatMap((group) => group.weights);
  return tf.loadLayersModel(
    tf.io.fromMemory({ modelTopology: files.modelJson.modelTopology, weightSpecs, weightData: files.weights.slice().buffer }),
  );
}

export async function writeModelDirectory(dir: string, files: ModelFiles, metadata: object, report?: object): Promise<void> {
  await mkdir(dir, { recursive: true });
  // weights before model.json: a reader that finds model.json finds its weights too.
  await writeFile(join(dir, 'weights.bin'), files.weights);
  await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  if (report) await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(files.modelJson)}\n`);
}
