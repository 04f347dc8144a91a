// Exports a tfjs layers model (a ModelSource: model.json + weights.bin) to an ONNX model, in memory,
// so that onnxruntime can serve what the trainer wrote without Python or a converter: the trainer writes
// it as model.onnx beside the tfjs files, and a consumer exports a version that has none as it loads.
// The ONNX model takes the images in the layout the tfjs model takes them (NHWC, or flat for a dense
// model) with a free batch size, and gives what the tfjs model gives: [batch, 10] probabilities.
import { VERSION } from '../../version.ts';
import type { ModelSource } from '../model-source.ts';
import { toKerasLayout, type GraphValue } from './graph-value.ts';
import { convertLayer } from './layer-converters.ts';
import { readLayersModelFiles, type LayerSpec } from './layers-model-files.ts';
import { readExtent } from './read-extent.ts';
import { OnnxExportError } from './onnx-export-error.ts';
import { OnnxGraphBuilder } from './onnx-graph-builder.ts';
import { encodeOnnxModel } from './onnx-model-encoder.ts';

export const ONNX_INPUT = 'images';
export const ONNX_OUTPUT = 'probabilities';

// Opset 13 is the first whose Softmax works on one axis as Keras's does (earlier ones flatten the
// trailing axes); IR 8 is the format version that goes with it. onnxruntime 1.31 reads both.
const OPSET_VERSION = 13;
const IR_VERSION = 8;

export interface OnnxExport {
  readonly bytes: Uint8Array;
  /** One image without the batch dimension, as the model takes it: [28, 28, 1], or [784] for a dense model. */
  readonly inputShape: readonly number[];
  /** One result without the batch dimension: [10] for a classifier. */
  readonly outputShape: readonly number[];
  /** What each layer gives for one image, without the batch dimension, in layer order. */
  readonly layerShapes: readonly (readonly number[])[];
}

export function exportToOnnx(source: ModelSource): OnnxExport {
  const { name, layers, weights } = readLayersModelFiles(source);
  const inputShape = imageShape(layers[0], source.version);
  const builder = new OnnxGraphBuilder([ONNX_INPUT, ONNX_OUTPUT]);
  let value: GraphValue = { name: ONNX_INPUT, shape: inputShape, layout: inputShape.length === 3 ? 'nhwc' : 'flat' };
  if (value.layout === 'nhwc') value = cropToRead(value, layers, builder);
  const layerShapes: (readonly number[])[] = [];
  for (const layer of layers) {
    value = convertLayer(value, layer, { builder, weights });
    layerShapes.push(value.shape);
  }
  value = toKerasLayout(value, builder);
  const graph = builder.build(name, { name: ONNX_INPUT, shape: ['batch', ...inputShape] }, value.name, { name: ONNX_OUTPUT, shape: ['batch', ...value.shape] });
  const bytes = encodeOnnxModel({
    irVersion: IR_VERSION,
    opsetVersion: OPSET_VERSION,
    producerName: 'stratus',
    producerVersion: VERSION,
    docString: `${source.version}, exported from its tfjs layers model`,
    graph,
  });
  return { bytes, inputShape, outputShape: value.shape, layerShapes };
}

/** The image cut to the top-left corner its layers read (read-extent.ts); as it is when they read it all. */
function cropToRead(image: GraphValue, layers: readonly LayerSpec[], builder: OnnxGraphBuilder): GraphValue {
  const [height, width, channels] = image.shape as [number, number, number];
  const extent = readExtent(layers, [height, width]);
  if (extent === null || (extent[0] === height && extent[1] === width)) return image;
  const inputs = [image.name, builder.int64s('crop_starts', [0, 0]), builder.int64s('crop_ends', extent), builder.int64s('crop_axes', [1, 2])];
  return { name: builder.node('Slice', inputs, 'crop_unread_edges'), shape: [...extent, channels], layout: 'nhwc' };
}

/** The first layer's batch_input_shape without the batch: what one image must look like. */
function imageShape(first: LayerSpec | undefined, version: string): number[] {
  const batchShape = first?.config.batch_input_shape;
  const shape = Array.isArray(batchShape) ? batchShape.slice(1) : [];
  if (!shape.every((d) => Number.isInteger(d) && d > 0) || (shape.length !== 3 && shape.length !== 1)) {
    throw new OnnxExportError(`model ${version}: the first layer's input shape ${JSON.stringify(batchShape ?? null)} is not [batch, height, width, channels] or [batch, size]`);
  }
  return shape as number[];
}
