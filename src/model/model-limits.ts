// What a model version must be before the registry stores it. A consumer builds whatever a model.json
// declares before it reads a weight (tfjs allocates every declared shape; onnxruntime every tensor a
// graph implies), so a version declaring huge layers would take consumers past their memory limit one
// after another, each restart reloading the stored serving version. Checked here, at publish, from the
// files alone: no model runs in the gateway or the trainer to find out.
import type { ModelFiles } from '../adapters/store/store.ts';
import { CLASSES, IMAGE_SIZE, PIXELS } from '../protocol/image.ts';
import { exportToOnnx } from './onnx/export-onnx.ts';
import { OnnxExportError } from './onnx/onnx-export-error.ts';

export const MODEL_LIMITS = Object.freeze({
  layers: 32,
  /** float32 weights: 16 MiB. The default architecture holds ~225k, lean ~110k. */
  parameters: 4_000_000,
  /** Values one layer gives for one image: 1 MiB of float32, ~25 times the default architecture's largest. */
  valuesPerImage: 262_144,
});

export class ModelLimitError extends Error {
  override readonly name = 'ModelLimitError';
}

/**
 * The files as consumers will load them: the tfjs files checked against the limits and the layers every
 * engine serves, and model.onnx made here from them. An uploaded model.onnx is replaced, never trusted:
 * its graph could imply any tensor, and the export of the checked files is the same model.
 */
export function publishableFiles(version: string, files: ModelFiles): ModelFiles {
  let exported;
  try {
    exported = exportToOnnx({ version, modelJson: files.modelJson, weightsBin: files.weightsBin });
  } catch (error) {
    if (error instanceof OnnxExportError || error instanceof SyntaxError) throw new ModelLimitError(error.message);
    throw error;
  }
  const { layerShapes, inputShape, outputShape } = exported;
  const image = inputShape.join('×');
  if (image !== `${IMAGE_SIZE}×${IMAGE_SIZE}×1` && image !== String(PIXELS)) {
    throw new ModelLimitError(`model ${version} takes ${image} images; Stratus sends ${IMAGE_SIZE}×${IMAGE_SIZE}×1 or ${PIXELS}`);
  }
  if (outputShape.join('×') !== String(CLASSES)) throw new ModelLimitError(`model ${version} gives ${outputShape.join('×')} values an image, not ${CLASSES} probabilities`);
  if (layerShapes.length > MODEL_LIMITS.layers) throw new ModelLimitError(`model ${version} has ${layerShapes.length} layers; at most ${MODEL_LIMITS.layers}`);
  const parameters = files.weightsBin.byteLength / Float32Array.BYTES_PER_ELEMENT;
  if (parameters > MODEL_LIMITS.parameters) throw new ModelLimitError(`model ${version} has ${parameters} parameters; at most ${MODEL_LIMITS.parameters}`);
  const largest = Math.max(...layerShapes.map((shape) => shape.reduce((n, d) => n * d, 1)));
  if (largest > MODEL_LIMITS.valuesPerImage) {
    throw new ModelLimitError(`model ${version} has a layer giving ${largest} values an image; at most ${MODEL_LIMITS.valuesPerImage}`);
  }
  return { modelJson: files.modelJson, weightsBin: files.weightsBin, modelOnnx: exported.bytes };
}
