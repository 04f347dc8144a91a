// A training step as an ONNX graph, so that ONNX Runtime's native kernels compute what tfjs's wasm
// kernels do: the forward pass in training mode, the mean cross-entropy, and its gradient with respect
// to every trainable weight, written out layer by layer (ONNX has no automatic differentiation, and the
// runtime's training build is not on npm). The optimizer stays in tfjs (fastAdam), so one-thread,
// worker-thread and rank training keep their one update and their bit-identical replicas.
//
// Inputs: the images (NHWC, as tfjs takes them), the one-hot labels, every trainable weight in tfjs's
// layout, and one mask per Dropout layer (0 or 1/(1-rate), drawn by the caller so that a seed replays
// it). Outputs: the loss, the predicted digits, and one gradient per weight, again in tfjs's layout.
// Internally the maps are NCHW (ONNX's Conv and MaxPool); a Flatten goes back to Keras's h,w,c order so
// that Dense kernels are used as tfjs holds them.
import type * as tf from '@tensorflow/tfjs';
import { VERSION } from '../../version.ts';
import { OnnxGraphBuilder } from '../../model/onnx/onnx-graph-builder.ts';
import { encodeOnnxModel, OnnxDataType, type OnnxValueInfo } from '../../model/onnx/onnx-model-encoder.ts';

export const STEP_IMAGES = 'images';
export const STEP_LABELS = 'labels';
export const STEP_LOSS = 'loss';
export const STEP_PREDICTED = 'predicted';

// Opset 13: Softmax and LogSoftmax over one axis, ReduceSum taking its axes as an input.
const OPSET_VERSION = 13;
const IR_VERSION = 8;

export class UntrainableOnOnnxError extends Error {
  override readonly name = 'UntrainableOnOnnxError';
}

export interface WeightPort {
  /** The tfjs variable's name, as gradients are keyed. */
  readonly variable: string;
  readonly input: string;
  readonly gradient: string;
  readonly shape: readonly number[];
}

export interface DropoutPort {
  readonly input: string;
  readonly units: number;
  readonly rate: number;
}

export interface TrainingGraph {
  readonly bytes: Uint8Array;
  readonly weights: readonly WeightPort[];
  readonly dropouts: readonly DropoutPort[];
  readonly classes: number;
}

/** The value flowing between layers: an NCHW map ([channels, height, width]) or a flat vector ([units]). */
interface Flow {
  readonly name: string;
  readonly shape: readonly number[];
  /** Set when the value is a ReLU's output; a later layer may take over its backward mask. */
  readonly relu?: ReluBackward;
}

interface ReluBackward {
  maskedDownstream: boolean;
  /** The layer after it (a max-pool) may also give the per-channel sums of the gradient it routes back. */
  channelSums: string | null;
}

/** Given the gradient of a layer's output, emits the gradient of its input (null: nothing needs it). */
type Backward = (outputGradient: string) => string | null;

interface LayerConfig {
  readonly [key: string]: unknown;
}

export function buildTrainingGraph(model: tf.LayersModel): TrainingGraph {
  const builder = new OnnxGraphBuilder([STEP_IMAGES, STEP_LABELS, STEP_LOSS, STEP_PREDICTED]);
  const inputShape = model.inputs[0]?.shape.slice(1) ?? [];
  if (inputShape.length !== 3 || !inputShape.every((d) => typeof d === 'number')) {
    throw new UntrainableOnOnnxError(`the model's input ${JSON.stringify(inputShape)} is not height×width×channels`);
  }
  const [height, width, channels] = inputShape as [number, number, number];
  const variableIndex = new Map(model.trainableWeights.map((w, i) => [w.name, i]));
  const weights: WeightPort[] = [];
  const gradientValues = new Map<string, string>();
  const dropouts: DropoutPort[] = [];
  const backwards: Backward[] = [];
  const int64 = (hint: string, values: readonly number[], dims?: readonly number[]) => builder.int64s(hint, values, dims);
  let zeroName: string | null = null;
  const zero = () => (zeroName ??= builder.constant('zero', [], new Float32Array([0])));
  const weightInput = (layer: tf.layers.Layer, kind: 'kernel' | 'bias'): { input: string; gradientOut: (value: string) => void } => {
    const variable = layer.trainableWeights.find((w) => w.originalName.endsWith(`/${kind}`));
    const index = variable ? variableIndex.get(variable.name) : undefined;
    if (!variable || index === undefined) throw new UntrainableOnOnnxError(`layer ${layer.name} has no trainable ${kind}`);
    const port: WeightPort = { variable: variable.name, input: `weight_${index}`, gradient: `gradient_${index}`, shape: variable.shape as number[] };
    weights.push(port);
    return { input: port.input, gradientOut: (value) => gradientValues.set(port.gradient, value) };
  };

  let flow: Flow = { name: builder.node('Transpose', [STEP_IMAGES], 'to_nchw', { perm: [0, 3, 1, 2] }), shape: [channels, height, width] };
  let logits: string | null = null;
  const layers = model.layers.filter((layer) => layer.getClassName() !== 'InputLayer');
  layers.forEach((layer, position) => {
    if (logits) throw new UntrainableOnOnnxError(`layer ${layer.name} follows the softmax; only a final softmax Dense layer is supported`);
    const config = layer.getConfig() as LayerConfig;
    const className = layer.getClassName();
    const first = position === 0;
    const input = flow;
    switch (className) {
      case 'Conv2D': {
        requireValidUnitStride(layer, config);
        const [c, h, w] = mapOf(input, layer);
        const [kh, kw] = config.kernelSize as [number, number];
        const filters = config.filters as number;
        const kernel = weightInput(layer, 'kernel');
        const oihw = builder.node('Transpose', [kernel.input], `${layer.name}_oihw`, { perm: [3, 2, 0, 1] });
        const bias = config.useBias === false ? null : weightInput(layer, 'bias');
        const convInputs = bias ? [input.name, oihw, bias.input] : [input.name, oihw];
        const z = builder.node('Conv', convInputs, layer.name, { kernel_shape: [kh, kw], pads: [0, 0, 0, 0] });
        const [oh, ow] = [h - kh + 1, w - kw + 1];
        const out = activation(builder, layer, config, z, zero);
        // dW[o,i,y,x] = Σ over n,oh,ow of dz[n,o,oh,ow]·input[n,i,oh+y,ow+x]: a convolution of the input
        // by dz with the batch as the channels it sums over ([i,n,h,w] ⊛ [o,n,oh,ow] → [i,o,kh,kw]).
        const kernelGradient = (dz: string) => {
          const inputByChannel = builder.node('Transpose', [input.name], `${layer.name}_x_cnhw`, { perm: [1, 0, 2, 3] });
          const dzByChannel = builder.node('Transpose', [dz], `${layer.name}_dz_cnhw`, { perm: [1, 0, 2, 3] });
          const dwIohw = builder.node('Conv', [inputByChannel, dzByChannel], `${layer.name}_dkernel_iohw`, { kernel_shape: [oh, ow], pads: [0, 0, 0, 0] });
          return builder.node('Transpose', [dwIohw], `${layer.name}_dkernel`, { perm: [2, 3, 0, 1] });
        };
        // The same sum for a one-channel input (the image), as products of dz with the input's kh·kw shifted
        // windows, batched over the images. The convolution above would transpose dz and reorder it as a
        // kernel, two passes over the layer's largest map that this does without.
        const singleChannelKernelGradient = (dz: string) => {
          const positions = oh * ow;
          const windows: string[] = [];
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) {
              windows.push(builder.node('Slice', [input.name, int64(`${layer.name}_from_${y}_${x}`, [y, x]), int64(`${layer.name}_to_${y}_${x}`, [y + oh, x + ow]), int64('axes_hw', [2, 3])], `${layer.name}_window_${y}_${x}`));
            }
          }
          const stacked = builder.node('Concat', windows, `${layer.name}_windows`, { axis: 1 });
          const columns = builder.node('Transpose', [builder.node('Reshape', [stacked, int64(`${layer.name}_n_k_p`, [0, kh * kw, positions])], `${layer.name}_n_k_p`)], `${layer.name}_n_p_k`, { perm: [0, 2, 1] });
          const dzRows = builder.node('Reshape', [dz, int64(`${layer.name}_n_o_p`, [0, filters, positions])], `${layer.name}_dz_n_o_p`);
          const perImage = builder.node('MatMul', [dzRows, columns], `${layer.name}_dkernel_n_o_k`);
          const summed = builder.node('ReduceSum', [perImage, int64('axes_n', [0])], `${layer.name}_dkernel_o_k`, { keepdims: 0 });
          return builder.node('Reshape', [builder.node('Transpose', [summed], `${layer.name}_dkernel_k_o`, { perm: [1, 0] }), int64(`${layer.name}_kernel_shape`, [kh, kw, 1, filters])], `${layer.name}_dkernel`);
        };
        flow = { name: out.value, shape: [filters, oh, ow], ...(out.relu ? { relu: out.relu } : {}) };
        backwards.push((gradient) => {
          const dz = out.backward ? out.backward(gradient) : gradient;
          const channelSums = out.relu?.channelSums ?? builder.node('ReduceSum', [dz, int64('axes_nhw', [0, 2, 3])], `${layer.name}_dbias`, { keepdims: 0 });
          if (bias) bias.gradientOut(channelSums);
          kernel.gradientOut(c === 1 ? singleChannelKernelGradient(dz) : kernelGradient(dz));
          return first ? null : builder.node('ConvTranspose', [dz, oihw], `${layer.name}_dinput`, { kernel_shape: [kh, kw], pads: [0, 0, 0, 0] });
        });
        break;
      }
      case 'MaxPooling2D': {
        const [c, h, w] = mapOf(input, layer);
        const [ph, pw] = config.poolSize as [number, number];
        const [sh, sw] = (config.strides as [number, number] | null) ?? [ph, pw];
        if (config.padding !== 'valid' || sh !== ph || sw !== pw) throw new UntrainableOnOnnxError(`layer ${layer.name}: only valid, non-overlapping pooling is supported`);
        const pooled = builder.node('MaxPool', [input.name], layer.name, { kernel_shape: [ph, pw], strides: [sh, sw], pads: [0, 0, 0, 0] });
        const [oh, ow] = [Math.floor(h / ph), Math.floor(w / pw)];
        flow = { name: pooled, shape: [c, oh, ow] };
        // A ReLU just before: a window whose maximum is 0 gets no gradient, which is the ReLU's own mask for
        // every element the pool routes to, so the ReLU's backward (a full-size pass) is skipped.
        const afterRelu = input.relu;
        if (afterRelu) afterRelu.maskedDownstream = true;
        backwards.push((gradient) => {
          // The gradient goes to the window's element equal to its maximum. Not MaxPool's argmax output and
          // MaxUnpool: that MaxPool runs a plain loop, five times slower here than the whole step's convolution.
          // An exact tie sends the gradient to every tied element (tfjs picks one); ties of positive
          // floats are rare, and the common one, a window of zeros after a ReLU, gets none either way.
          const live = afterRelu ? mask(builder.node('Greater', [pooled, zero()], `${layer.name}_positive`), gradient, `${layer.name}_dpooled_live`, builder) : gradient;
          // Each window sends its gradient to its maximum, so the bias gradient of the layer below, a sum over
          // positions, can be taken on the pooled map: a quarter of the reads (and a tie counts once, as
          // tfjs routes it, not once per tied element).
          if (afterRelu) afterRelu.channelSums = builder.node('ReduceSum', [live, int64('axes_nhw', [0, 2, 3])], `${layer.name}_channel_sums`, { keepdims: 0 });
          // Nearest-neighbour Resize by the window size: ONNX Runtime has a fast path for it (Expand, which
          // would do the same, copies one float at a time).
          const scales = builder.constant(`${layer.name}_scales`, [4], new Float32Array([1, 1, ph, pw]));
          const spread = (value: string, hint: string) => builder.node('Resize', [value, '', scales], hint, { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
          const covered = oh * ph === h && ow * pw === w;
          const inputCovered = covered ? input.name : builder.node('Slice', [input.name, int64('zeros_2', [0, 0]), int64(`${layer.name}_ends`, [oh * ph, ow * pw]), int64('axes_hw', [2, 3])], `${layer.name}_covered_input`);
          const isMax = builder.node('Equal', [inputCovered, spread(pooled, `${layer.name}_max_spread`)], `${layer.name}_is_max`);
          const routed = mask(isMax, spread(live, `${layer.name}_dpooled_spread`), `${layer.name}_routed`, builder);
          if (covered) return routed;
          return builder.node('Pad', [routed, int64(`${layer.name}_pads`, [0, 0, 0, 0, 0, 0, h - oh * ph, w - ow * pw])], `${layer.name}_dinput`);
        });
        break;
      }
      case 'Flatten': {
        if (input.shape.length === 1) break;
        const [c, h, w] = mapOf(input, layer);
        const hwc = builder.node('Transpose', [input.name], `${layer.name}_nhwc`, { perm: [0, 2, 3, 1] });
        flow = { name: builder.node('Flatten', [hwc], layer.name, { axis: 1 }), shape: [c * h * w] };
        backwards.push((gradient) => {
          const unflat = builder.node('Reshape', [gradient, int64(`${layer.name}_hwc`, [0, h, w, c])], `${layer.name}_dinput_nhwc`);
          return builder.node('Transpose', [unflat], `${layer.name}_dinput`, { perm: [0, 3, 1, 2] });
        });
        break;
      }
      case 'Dense': {
        if (input.shape.length !== 1) throw new UntrainableOnOnnxError(`layer ${layer.name} (Dense) reads a map; only Dense after Flatten is supported`);
        const units = config.units as number;
        const kernel = weightInput(layer, 'kernel');
        const bias = config.useBias === false ? null : weightInput(layer, 'bias');
        const z = builder.node('Gemm', bias ? [input.name, kernel.input, bias.input] : [input.name, kernel.input], layer.name);
        const last = position === layers.length - 1;
        if (config.activation === 'softmax') {
          if (!last) throw new UntrainableOnOnnxError(`layer ${layer.name}: a softmax is supported only as the last layer`);
          logits = z;
        }
        const out: Activated = logits ? { value: z, backward: null } : activation(builder, layer, config, z, zero);
        flow = { name: out.value, shape: [units], ...(out.relu ? { relu: out.relu } : {}) };
        backwards.push((gradient) => {
          const dz = out.backward ? out.backward(gradient) : gradient;
          kernel.gradientOut(builder.node('Gemm', [input.name, dz], `${layer.name}_dkernel`, { transA: 1 }));
          if (bias) bias.gradientOut(builder.node('ReduceSum', [dz, int64('axes_n', [0])], `${layer.name}_dbias`, { keepdims: 0 }));
          return first ? null : builder.node('Gemm', [dz, kernel.input], `${layer.name}_dinput`, { transB: 1 });
        });
        break;
      }
      case 'Dropout': {
        const rate = config.rate as number;
        if (input.shape.length !== 1) throw new UntrainableOnOnnxError(`layer ${layer.name}: Dropout is supported on flat values only`);
        const port: DropoutPort = { input: `dropout_mask_${dropouts.length}`, units: input.shape[0]!, rate };
        dropouts.push(port);
        flow = { name: builder.node('Mul', [input.name, port.input], layer.name), shape: input.shape };
        backwards.push((gradient) => builder.node('Mul', [gradient, port.input], `${layer.name}_dinput`));
        break;
      }
      default:
        throw new UntrainableOnOnnxError(`layer ${layer.name} is a ${className}, which training on ONNX Runtime does not support`);
    }
  });
  if (!logits) throw new UntrainableOnOnnxError('the model does not end in a softmax Dense layer');
  const classes = flow.shape[0]!;

  // The mean cross-entropy of softmax(logits) against the one-hot labels, and its gradient (p − y) / batch.
  const batch = builder.node('Cast', [builder.node('Gather', [builder.node('Shape', [STEP_LABELS], 'labels_shape'), int64('batch_axis', [0], [])], 'batch_size')], 'batch_float', { to: OnnxDataType.FLOAT });
  const logProbabilities = builder.node('LogSoftmax', [logits], 'log_probabilities', { axis: 1 });
  const summed = builder.node('ReduceSum', [builder.node('Mul', [STEP_LABELS, logProbabilities], 'label_log_p')], 'summed_log_p', { keepdims: 0 });
  const loss = builder.node('Div', [builder.node('Neg', [summed], 'neg_log_p'), batch], 'mean_loss');
  const probabilities = builder.node('Exp', [logProbabilities], 'probabilities');
  let gradient: string | null = builder.node('Div', [builder.node('Sub', [probabilities, STEP_LABELS], 'p_minus_y'), batch], 'dlogits');
  for (let i = backwards.length - 1; i >= 0 && gradient; i--) gradient = backwards[i]!(gradient);
  const predicted = builder.node('Cast', [builder.node('ArgMax', [logits], 'argmax', { axis: 1, keepdims: 0 })], 'predicted_int32', { to: OnnxDataType.INT32 });

  const inputs: OnnxValueInfo[] = [
    { name: STEP_IMAGES, shape: ['batch', height, width, channels] },
    { name: STEP_LABELS, shape: ['batch', classes] },
    ...weights.map((w) => ({ name: w.input, shape: w.shape })),
    ...dropouts.map((d) => ({ name: d.input, shape: ['batch', d.units] })),
  ];
  const outputs = [
    { value: loss, info: { name: STEP_LOSS, shape: [] } },
    { value: predicted, info: { name: STEP_PREDICTED, shape: ['batch'], elementType: 'int32' as const } },
    ...weights.map((w) => {
      const value = gradientValues.get(w.gradient);
      if (!value) throw new Error(`internal: no gradient was computed for ${w.variable}`);
      return { value, info: { name: w.gradient, shape: w.shape } };
    }),
  ];
  const graph = builder.buildWithOutputs(`${model.name}_training_step`, inputs, outputs);
  const bytes = encodeOnnxModel({ irVersion: IR_VERSION, opsetVersion: OPSET_VERSION, producerName: 'stratus', producerVersion: VERSION, docString: 'one training step: loss, predictions and gradients', graph });
  return { bytes, weights, dropouts, classes };
}

interface Activated {
  readonly value: string;
  readonly backward: ((outputGradient: string) => string) | null;
  readonly relu?: ReluBackward;
}

function activation(builder: OnnxGraphBuilder, layer: tf.layers.Layer, config: LayerConfig, z: string, zero: () => string): Activated {
  const name = config.activation ?? 'linear';
  if (name === 'linear') return { value: z, backward: null };
  if (name !== 'relu') throw new UntrainableOnOnnxError(`layer ${layer.name} uses activation ${JSON.stringify(name)}; training on ONNX Runtime supports linear and relu (and softmax last)`);
  const value = builder.node('Relu', [z], `${layer.name}_relu`);
  const relu: ReluBackward = { maskedDownstream: false, channelSums: null };
  // relu'(z) is 1 where the output is positive. (Not Mul by Sign(output): ORT's Sign is a scalar loop.)
  const backward = (gradient: string) => relu.maskedDownstream ? gradient : mask(builder.node('Greater', [value, zero()], `${layer.name}_relu_mask`), gradient, `${layer.name}_relu_grad`, builder);
  return { value, backward, relu };
}

/** `value` where `condition` holds, 0 elsewhere. A multiply by the cast mask: ORT's Where is a scalar loop. */
function mask(condition: string, value: string, hint: string, builder: OnnxGraphBuilder): string {
  return builder.node('Mul', [builder.node('Cast', [condition], `${hint}_mask`, { to: OnnxDataType.FLOAT }), value], hint);
}

function mapOf(flow: Flow, layer: tf.layers.Layer): [number, number, number] {
  if (flow.shape.length !== 3) throw new UntrainableOnOnnxError(`layer ${layer.name} reads a flat value; it needs a map`);
  return flow.shape as [number, number, number];
}

function requireValidUnitStride(layer: tf.layers.Layer, config: LayerConfig): void {
  const ones = (value: unknown) => Array.isArray(value) && value.every((v) => v === 1);
  if (config.padding !== 'valid' || !ones(config.strides) || !ones(config.dilationRate) || config.dataFormat !== 'channelsLast') {
    throw new UntrainableOnOnnxError(`layer ${layer.name}: training on ONNX Runtime supports valid, stride-1, undilated, channels-last convolutions only`);
  }
}
