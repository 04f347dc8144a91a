// One converter per Keras layer class the project's architectures use (src/train/architectures.ts),
// each turning a layer and its weights into ONNX nodes. Anything else is refused by name rather than
// exported approximately: a served model must compute what was trained.
import { chwPositionsOfHwcOrder, isIdentityOrder, toNchw, type GraphValue } from './graph-value.ts';
import type { LayerSpec, NamedWeight } from './layers-model-files.ts';
import { OnnxExportError } from './onnx-export-error.ts';
import type { OnnxGraphBuilder } from './onnx-graph-builder.ts';

export interface ConversionContext {
  readonly builder: OnnxGraphBuilder;
  readonly weights: ReadonlyMap<string, NamedWeight>;
}

type LayerConverter = (input: GraphValue, layer: LayerSpec, context: ConversionContext) => GraphValue;

const CONVERTERS: Readonly<Record<string, LayerConverter>> = {
  InputLayer: (input) => input,
  // Inference runs Dropout as the identity: tfjs does too outside training.
  Dropout: (input) => input,
  Conv2D: convertConv2D,
  MaxPooling2D: convertMaxPooling2D,
  Flatten: convertFlatten,
  Dense: convertDense,
};

const SUPPORTED_LAYERS: readonly string[] = Object.keys(CONVERTERS);

export function convertLayer(input: GraphValue, layer: LayerSpec, context: ConversionContext): GraphValue {
  const convert = CONVERTERS[layer.className];
  if (!convert) {
    throw new OnnxExportError(`layer ${layer.name} is a ${layer.className}, which the ONNX export does not support (it supports ${SUPPORTED_LAYERS.join(', ')})`);
  }
  return convert(input, layer, context);
}

function convertConv2D(input: GraphValue, layer: LayerSpec, { builder, weights }: ConversionContext): GraphValue {
  requireSetting(layer, 'padding', 'valid');
  requireSetting(layer, 'data_format', 'channels_last');
  const [height, width, channels] = mapShape(input, layer);
  const { kernel: [kh, kw], strides: [sh, sw], dilation: [dh, dw] } = windowOf(layer) as Window;
  const kernel = weight(weights, layer, 'kernel', [kh, kw, channels, Number(layer.config.filters)]);
  const filters = kernel.shape[3] as number;
  const inputs = [toNchw(input, builder).name, builder.constant(`${layer.name}_kernel`, [filters, channels, kh, kw], kernelToOihw(kernel))];
  if (layer.config.use_bias !== false) inputs.push(builder.constant(`${layer.name}_bias`, [filters], weight(weights, layer, 'bias', [filters]).values));
  const attributes = { kernel_shape: [kh, kw], strides: [sh, sw], dilations: [dh, dw], pads: [0, 0, 0, 0] };
  const shape = [validOutputSize(height, kh, sh, dh, layer), validOutputSize(width, kw, sw, dw, layer), filters];
  const output: GraphValue = { name: builder.node('Conv', inputs, layer.name, attributes), shape, layout: 'nchw' };
  return activate(output, layer, builder);
}

function convertMaxPooling2D(input: GraphValue, layer: LayerSpec, { builder }: ConversionContext): GraphValue {
  requireSetting(layer, 'padding', 'valid');
  requireSetting(layer, 'data_format', 'channels_last');
  const [height, width, channels] = mapShape(input, layer);
  const { kernel: [ph, pw], strides: [sh, sw] } = windowOf(layer) as Window;
  const attributes = { kernel_shape: [ph, pw], strides: [sh, sw], pads: [0, 0, 0, 0] };
  const name = builder.node('MaxPool', [toNchw(input, builder).name], layer.name, attributes);
  return { name, shape: [validOutputSize(height, ph, sh, 1, layer), validOutputSize(width, pw, sw, 1, layer), channels], layout: 'nchw' };
}

function convertFlatten(input: GraphValue, layer: LayerSpec, { builder }: ConversionContext): GraphValue {
  requireSetting(layer, 'data_format', 'channels_last');
  if (input.layout === 'flat') return input;
  const shape = [input.shape.reduce((n, d) => n * d, 1)];
  const name = builder.node('Flatten', [input.name], layer.name, { axis: 1 });
  if (input.layout === 'nhwc') return { name, shape, layout: 'flat' };
  const kerasOrder = chwPositionsOfHwcOrder(input.shape);
  return isIdentityOrder(kerasOrder) ? { name, shape, layout: 'flat' } : { name, shape, layout: 'flat', kerasOrder };
}

function convertDense(input: GraphValue, layer: LayerSpec, { builder, weights }: ConversionContext): GraphValue {
  if (input.layout !== 'flat') {
    throw new OnnxExportError(`layer ${layer.name} (Dense) reads a ${input.shape.join('×')} map; the ONNX export supports Dense only after Flatten or on a flat input`);
  }
  const inputSize = input.shape[0] as number;
  const kernel = weight(weights, layer, 'kernel', [inputSize, Number(layer.config.units)]);
  const units = kernel.shape[1] as number;
  const rows = input.kerasOrder ? kernelRowsInOrder(kernel.values, units, input.kerasOrder) : kernel.values;
  const inputs = [input.name, builder.constant(`${layer.name}_kernel`, [inputSize, units], rows)];
  if (layer.config.use_bias !== false) inputs.push(builder.constant(`${layer.name}_bias`, [units], weight(weights, layer, 'bias', [units]).values));
  return activate({ name: builder.node('Gemm', inputs, layer.name), shape: [units], layout: 'flat' }, layer, builder);
}

function activate(value: GraphValue, layer: LayerSpec, builder: OnnxGraphBuilder): GraphValue {
  const activation = layer.config.activation ?? 'linear';
  switch (activation) {
    case 'linear':
      return value;
    case 'relu':
      return { ...value, name: builder.node('Relu', [value.name], `${layer.name}_relu`) };
    case 'softmax':
      // Over Keras's last axis: the channels, which NCHW keeps on axis 1. A flat value's element order
      // does not matter to a softmax over all of it. (Positive axes only: the writer encodes no negative integers.)
      return { ...value, name: builder.node('Softmax', [value.name], `${layer.name}_softmax`, { axis: value.layout === 'nhwc' ? 3 : 1 }) };
    default:
      throw new OnnxExportError(`layer ${layer.name} (${layer.className}) uses activation ${JSON.stringify(activation)}; the ONNX export supports linear, relu and softmax`);
  }
}

/** tfjs keeps a Conv2D kernel as [kh, kw, in, out]; ONNX wants [out, in, kh, kw]. */
function kernelToOihw({ shape, values }: NamedWeight): Float32Array {
  const [kh, kw, channels, filters] = shape as [number, number, number, number];
  const oihw = new Float32Array(values.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < channels; i++) {
        for (let o = 0; o < filters; o++) oihw[((o * channels + i) * kh + y) * kw + x] = values[((y * kw + x) * channels + i) * filters + o] as number;
      }
    }
  }
  return oihw;
}

/** Keras's kernel row k moves to the row where the input holds Keras's element k. */
function kernelRowsInOrder(kernel: Float32Array, units: number, kerasOrder: Int32Array): Float32Array {
  const rows = new Float32Array(kernel.length);
  kerasOrder.forEach((position, k) => rows.set(kernel.subarray(k * units, (k + 1) * units), position * units));
  return rows;
}

function weight(weights: ReadonlyMap<string, NamedWeight>, layer: LayerSpec, kind: 'kernel' | 'bias', expected: readonly number[]): NamedWeight {
  const name = `${layer.name}/${kind}`;
  const found = weights.get(name);
  if (!found) throw new OnnxExportError(`layer ${layer.name} (${layer.className}): weight ${name} is not in the weights manifest`);
  if (found.shape.length !== expected.length || found.shape.some((d, i) => d !== expected[i])) {
    throw new OnnxExportError(`layer ${layer.name} (${layer.className}): weight ${name} has shape [${found.shape}], expected [${expected}]`);
  }
  return found;
}

function mapShape(input: GraphValue, layer: LayerSpec): readonly [number, number, number] {
  if (input.layout === 'flat') {
    throw new OnnxExportError(`layer ${layer.name} (${layer.className}) reads a flat value of ${input.shape[0]}; it needs a height×width×channels map`);
  }
  return input.shape as [number, number, number];
}

/** The window a layer slides over its input map, [height, width] each. */
export interface Window {
  readonly kernel: readonly [number, number];
  readonly strides: readonly [number, number];
  readonly dilation: readonly [number, number];
}

/** The window of a Conv2D or MaxPooling2D layer; null for any other layer. */
export function windowOf(layer: LayerSpec): Window | null {
  if (layer.className === 'Conv2D') return { kernel: pair(layer, 'kernel_size'), strides: pair(layer, 'strides'), dilation: pair(layer, 'dilation_rate') };
  if (layer.className !== 'MaxPooling2D') return null;
  const pool = pair(layer, 'pool_size');
  // Keras's strides default to the pool size.
  return { kernel: pool, strides: layer.config.strides == null ? pool : pair(layer, 'strides'), dilation: [1, 1] };
}

/** Keras settings that are a number or a [height, width] pair. */
function pair(layer: LayerSpec, key: string): readonly [number, number] {
  const value = layer.config[key] ?? 1;
  const [a, b] = Array.isArray(value) ? value : [value, value];
  if (!Number.isInteger(a) || !Number.isInteger(b) || a < 1 || b < 1) {
    throw new OnnxExportError(`layer ${layer.name} (${layer.className}): ${key} ${JSON.stringify(value)} is not one or two positive integers`);
  }
  return [a, b];
}

function requireSetting(layer: LayerSpec, key: string, supported: string): void {
  const value = layer.config[key] ?? supported;
  if (value !== supported) {
    throw new OnnxExportError(`layer ${layer.name} (${layer.className}) has ${key} ${JSON.stringify(value)}; the ONNX export supports only ${JSON.stringify(supported)}`);
  }
}

export function validOutputSize(size: number, kernel: number, stride: number, dilation: number, layer: LayerSpec): number {
  const out = Math.floor((size - dilation * (kernel - 1) - 1) / stride) + 1;
  if (out < 1) throw new OnnxExportError(`layer ${layer.name} (${layer.className}): a ${kernel}-wide window does not fit in ${size}`);
  return out;
}
