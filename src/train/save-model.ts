// Turns a trained model into the files `--model DIR` serves: model.json, weights.bin, metadata.json
// (the layout of models/embedded/), model.onnx (the same model in ONNX, which consumers on onnxruntime
// load as it is), plus report.json, which only people and tools read.
import * as tf from '@tensorflow/tfjs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { exportToOnnx } from '../model/onnx/export-onnx.ts';

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

/** What writeModelDirectory could not write: model.onnx, with the reason, or null when it wrote it. */
export interface WrittenModel {
  readonly onnxSkipped: string | null;
}

export async function writeModelDirectory(dir: string, files: ModelFiles, metadata: { readonly version: string }, report?: object): Promise<WrittenModel> {
  const onnx = exportOnnx(files, metadata.version);
  await mkdir(dir, { recursive: true });
  // weights and model.onnx before model.json: a reader that finds model.json finds the rest too.
  await writeFile(join(dir, 'weights.bin'), files.weights);
  // Without a new one, an old model.onnx from an earlier run into this directory would serve in its place.
  if ('bytes' in onnx) await writeFile(join(dir, 'model.onnx'), onnx.bytes);
  else await rm(join(dir, 'model.onnx'), { force: true });
  await writeFile(join(dir, 'metadata.json'), `${JSON.stringify(metadata, null, 2)}\n`);
  if (report) await writeFile(join(dir, 'report.json'), `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(join(dir, 'model.json'), `${JSON.stringify(files.modelJson)}\n`);
  return { onnxSkipped: 'reason' in onnx ? onnx.reason : null };
}

/**
 * The model in ONNX, or why not. Any failure is a reason, not an error: model.json and weights.bin are the
 * model, and a finished run is not thrown away because one of its two forms could not be made (an
 * architecture the export does not handle serves on the wasm engine).
 */
function exportOnnx(files: ModelFiles, version: string): { bytes: Uint8Array } | { reason: string } {
  try {
    return { bytes: exportToOnnx({ version, modelJson: JSON.stringify(files.modelJson), weightsBin: files.weights }).bytes };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}
