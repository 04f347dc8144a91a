// A value flowing between converted layers, and the one place its memory layout changes.
// Keras works channels-last (NHWC) and ONNX's Conv and MaxPool channels-first (NCHW): the image is
// transposed once, before the first of them, and a flattened map keeps the NCHW order it has in memory;
// the Dense layer that reads it takes its kernel rows in that order instead (permuted at export, free at
// run time), so no transpose back is needed.
import type { OnnxGraphBuilder } from './onnx-graph-builder.ts';

export type Layout = 'nhwc' | 'nchw' | 'flat';

export interface GraphValue {
  /** The ONNX tensor holding it. */
  readonly name: string;
  /** Without the batch dimension and in Keras's order, whatever the layout: [height, width, channels] or [units]. */
  readonly shape: readonly number[];
  readonly layout: Layout;
  /** For a flat value whose elements are not in Keras's order: where Keras's element k sits in the tensor. */
  readonly kerasOrder?: Int32Array;
}

export function toNchw(value: GraphValue, builder: OnnxGraphBuilder): GraphValue {
  if (value.layout === 'nchw') return value;
  if (value.layout !== 'nhwc') throw new Error(`internal: a ${value.layout} value cannot become NCHW`);
  return { ...value, layout: 'nchw', name: builder.node('Transpose', [value.name], 'to_nchw', { perm: [0, 3, 1, 2] }) };
}

/** Where Keras's flatten (h, w, c order) puts each element of a flattened NCHW map. */
export function chwPositionsOfHwcOrder([height, width, channels]: readonly number[]): Int32Array {
  const h = height as number;
  const w = width as number;
  const c = channels as number;
  const order = new Int32Array(h * w * c);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let k = 0; k < c; k++) order[(y * w + x) * c + k] = k * h * w + y * w + x;
    }
  }
  return order;
}

export function isIdentityOrder(order: Int32Array): boolean {
  return order.every((position, k) => position === k);
}

/** The value as Keras would hold it: what a graph output must be, since callers read it in Keras's order. */
export function toKerasLayout(value: GraphValue, builder: OnnxGraphBuilder): GraphValue {
  if (value.layout === 'nchw') {
    return { ...value, layout: 'nhwc', name: builder.node('Transpose', [value.name], 'to_nhwc', { perm: [0, 2, 3, 1] }) };
  }
  if (value.kerasOrder) {
    const indices = builder.int64s('keras_order', value.kerasOrder);
    return { name: builder.node('Gather', [value.name, indices], 'in_keras_order', { axis: 1 }), shape: value.shape, layout: 'flat' };
  }
  return value;
}
