// What an ONNX model must take and give to serve as the classifier: what export-onnx.ts writes. A
// model.onnx that comes with a version is not our export of its tfjs files, so its session is checked
// before it serves: anything else would fail on every request, or answer with something other than
// digit probabilities.
import type * as Ort from 'onnxruntime-node';
import { CLASSES, PIXELS } from '../../protocol/image.ts';
import { ONNX_INPUT, ONNX_OUTPUT } from './export-onnx.ts';

/** The shapes of one image the classifier can feed: NHWC for a CNN, flat for a dense model. */
const IMAGE_SHAPES: readonly (readonly number[])[] = [[28, 28, 1], [PIXELS]];

/** One image's shape, without the batch, as the session takes it; throws, naming what it found, if the
 * session is not one float32 `images` [batch, 28, 28, 1] or [batch, 784] in and one float32
 * `probabilities` [batch, 10] out, the batch free. */
export function classifierImageShape(session: Ort.InferenceSession, version: string): readonly number[] {
  const [input, ...moreInputs] = session.inputMetadata;
  const [output, ...moreOutputs] = session.outputMetadata;
  const inputShape = moreInputs.length === 0 ? batchedShape(input, ONNX_INPUT) : null;
  const image = IMAGE_SHAPES.find((shape) => inputShape !== null && sameDims(shape, inputShape));
  const outputShape = moreOutputs.length === 0 ? batchedShape(output, ONNX_OUTPUT) : null;
  if (!image || !outputShape || !sameDims([CLASSES], outputShape)) {
    throw new Error(
      `model ${version}: its ONNX model takes ${describe(session.inputMetadata)} and gives ${describe(session.outputMetadata)}; ` +
        `a classifier takes float32 ${ONNX_INPUT} [batch, 28, 28, 1] or [batch, ${PIXELS}] and gives float32 ${ONNX_OUTPUT} [batch, ${CLASSES}]`,
    );
  }
  return image;
}

/** The shape after a free batch dimension, if `value` is the float32 tensor named `name`; else null. */
function batchedShape(value: Ort.InferenceSession.ValueMetadata | undefined, name: string): readonly (number | string)[] | null {
  if (!value?.isTensor || value.name !== name || value.type !== 'float32') return null;
  const [batch, ...rest] = value.shape;
  // A named dimension, or -1, is free; a fixed batch size would refuse the batches the consumer makes.
  const free = typeof batch === 'string' || (typeof batch === 'number' && batch < 0);
  return free ? rest : null;
}

function sameDims(expected: readonly number[], actual: readonly (number | string)[]): boolean {
  return expected.length === actual.length && expected.every((d, i) => actual[i] === d);
}

function describe(values: readonly Ort.InferenceSession.ValueMetadata[]): string {
  if (values.length === 0) return 'nothing';
  return values.map((v) => (v.isTensor ? `${v.type} ${v.name} [${v.shape.join(', ')}]` : `${v.name} (not a tensor)`)).join(', ');
}
