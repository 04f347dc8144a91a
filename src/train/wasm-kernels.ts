/**
 * Training kernels for the tfjs wasm backend.
 *
 * tfjs-backend-wasm 4.22 ships no Conv2DBackpropFilter, so a Conv2D layer
 * cannot be trained on it, and its BatchMatMul leaves XNNPACK for a naive loop
 * whenever transposeA/transposeB is set, which is exactly what every Dense
 * gradient asks for. Both are fixed here without native code: im2col/col2im
 * are written by JS straight into the wasm heap and the products are done by
 * the backend's own (XNNPACK) BatchMatMul on untransposed operands.
 *
 * Fragile on purpose, and pinned by test/train/wasm-kernels.test.ts: this
 * reads BackendWasm internals (`dataIdMap[..].memoryOffset`, `wasm.HEAPF32`,
 * `makeOutput`) and reuses the registered wasm kernel functions.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

type DataId = object;

/** The slice of BackendWasm used here; it is not part of tfjs' public typings. */
interface WasmBackend {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: DataId): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: DataId): boolean;
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** XNNPACK repacks the right-hand operand of every matmul whose B tensor it has not seen before;
 *  measured at 10-15 ns per element against ~1 ns for a wasm transpose. */
const PACK_COST = 10;

// Global rather than module state: a second copy of this module (tests, bundles) must not wrap
// the already-wrapped BatchMatMul again.
const REGISTERED = Symbol.for('stratus.wasmTrainingKernels');
const globalFlags = globalThis as { [REGISTERED]?: boolean };
let origMatMul: Kernel;
let origTranspose: Kernel;
let origSum: Kernel;

function kernelOf(name: string): tf.KernelConfig {
  const k = tf.getKernel(name, 'wasm');
  if (!k) throw new Error(`wasm kernel ${name} is not registered; import '@tensorflow/tfjs-backend-wasm' first`);
  return k;
}

/**
 * Registers Conv2DBackpropFilter for 'wasm' and replaces its BatchMatMul (transposed cases),
 * Conv2DBackpropInput, MaxPoolGrad and Sum (leading-axes case) with faster equivalents.
 * Idempotent; may be called before or after tf.setBackend('wasm').
 */
export function registerWasmTrainingKernels(): void {
  if (globalFlags[REGISTERED]) return;
  origMatMul = kernelOf('BatchMatMul').kernelFunc as unknown as Kernel;
  origTranspose = kernelOf('Transpose').kernelFunc as unknown as Kernel;
  origSum = kernelOf('Sum').kernelFunc as unknown as Kernel;
  // Besides the missing Conv2DBackpropFilter and the transposed BatchMatMul: the stock
  // Conv2DBackpropInput and MaxPoolGrad are plain loops (~5x slower than ours), and Sum
  // transposes before reducing the leading axes of every bias gradient.
  const replace: [string, Kernel][] = [
    ['BatchMatMul', batchMatMul],
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
    ['Conv2DBackpropInput', conv2DBackpropInput],
    ['MaxPoolGrad', maxPoolGrad],
    ['Sum', sum],
  ];
  for (const [kernelName, fn] of replace) {
    const prev = tf.getKernel(kernelName, 'wasm');
    // Unregister first (re-registering logs a warning). The original setupFunc is kept: when
    // the backend initialises after this call, it binds the wasm functions we delegate to.
    if (prev) tf.unregisterKernel(kernelName, 'wasm');
    tf.registerKernel({ ...prev, kernelName, backendName: 'wasm', kernelFunc: fn as unknown as tf.KernelFunc });
  }
  globalFlags[REGISTERED] = true;
}

function swapLast2(t: tf.TensorInfo, backend: unknown): tf.TensorInfo {
  const r = t.shape.length;
  const perm = [...Array(r).keys()];
  perm[r - 2] = r - 1;
  perm[r - 1] = r - 2;
  return origTranspose({ inputs: { x: t }, backend, attrs: { perm } });
}

function batchMatMul(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const tA = Boolean(attrs?.transposeA);
  const tB = Boolean(attrs?.transposeB);
  // Untransposed calls go straight through so XNNPACK's per-tensor packed-weight cache keeps
  // serving inference; product() assumes its right operand is fresh and must be packed anyway.
  if (!tA && !tB) return origMatMul(args);
  return product(inputs.a as tf.TensorInfo, inputs.b as tf.TensorInfo, tA, tB, backend);
}

/** op(A)·op(B) on XNNPACK's fast path only: explicit transposes, cheapest orientation. */
function product(a: tf.TensorInfo, b: tf.TensorInfo, tA: boolean, tB: boolean, backend: unknown): tf.TensorInfo {
  const be = backend as WasmBackend;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const M = a.shape[tA ? ra - 1 : ra - 2] ?? 1;
  const K = a.shape[tA ? ra - 2 : ra - 1] ?? 1;
  const N = b.shape[tB ? rb - 2 : rb - 1] ?? 1;
  const batched = (ra > 2 && tf.util.sizeFromShape(a.shape.slice(0, -2)) > 1)
    || (rb > 2 && tf.util.sizeFromShape(b.shape.slice(0, -2)) > 1);
  const temps: tf.TensorInfo[] = [];
  const tr = (t: tf.TensorInfo) => { const o = swapLast2(t, backend); temps.push(o); return o; };
  const mul = (x: tf.TensorInfo, y: tf.TensorInfo) =>
    origMatMul({ inputs: { a: x, b: y }, backend, attrs: { transposeA: false, transposeB: false } });
  // C = op(A)·op(B) can also be had as (op(B)ᵀ·op(A)ᵀ)ᵀ, which packs a K×M operand instead of K×N.
  const direct = (tA ? M * K : 0) + (tB ? K * N : 0) + PACK_COST * K * N;
  const flipped = (tB ? 0 : K * N) + (tA ? 0 : M * K) + M * N + PACK_COST * K * M;
  let out: tf.TensorInfo;
  if (batched || direct <= flipped) {
    out = mul(tA ? tr(a) : a, tB ? tr(b) : b);
  } else {
    const ct = mul(tB ? b : tr(b), tA ? a : tr(a));
    temps.push(ct);
    out = swapLast2(ct, backend);
  }
  for (const t of temps) be.disposeData(t.dataId);
  return out;
}

function conv2DBackpropFilter(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropFilterAttrs & { dilations?: number | number[] };
  const x = inputs.x as tf.TensorInfo;
  const dy = inputs.dy as tf.TensorInfo;
  const be = backend as WasmBackend;
  checkAttrs('Conv2DBackpropFilter', attrs, [x, dy]);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number], attrs.filterShape, attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, false, 'channelsLast');
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw, outChannels: CO } = info;
  checkShape('Conv2DBackpropFilter', 'dy', dy.shape, info.outShape);
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const P = n * OH * OW;
  const K = KH * KW * C;

  // Rows of colsᵀ walk x along its width; with channels innermost that is a stride-C gather,
  // so move channels outermost first ([C,N,H,W]) and the inner loop reads contiguously.
  const xs = C > 1 ? origTranspose({ inputs: { x }, backend, attrs: { perm: [3, 0, 1, 2] } }) : x;
  const cols = be.makeOutput([K, P], 'float32');
  // Read views after every allocation: malloc may grow wasm memory and detach older views.
  const heap = be.wasm.HEAPF32;
  const xOff = offsetOf(be, xs) >> 2;
  const cOff = offsetOf(be, cols) >> 2;
  const sC = n * H * W;
  const sN = H * W;
  for (let kh = 0; kh < KH; kh++) {
    for (let kw = 0; kw < KW; kw++) {
      // Output columns whose tap lands inside the image; the rest read zero padding.
      const ow0 = Math.min(OW, Math.max(0, Math.ceil((left - kw) / sw)));
      const ow1 = Math.max(ow0, Math.min(OW, Math.floor((W - 1 + left - kw) / sw) + 1));
      for (let c = 0; c < C; c++) {
        let dst = cOff + ((kh * KW + kw) * C + c) * P;
        for (let b = 0; b < n; b++) {
          const plane = xOff + c * sC + b * sN;
          for (let oh = 0; oh < OH; oh++) {
            const ih = oh * sh - top + kh;
            if (ih < 0 || ih >= H) {
              heap.fill(0, dst, dst + OW);
              dst += OW;
              continue;
            }
            const src = plane + ih * W - left + kw;
            let ow = 0;
            for (; ow < ow0; ow++) heap[dst++] = 0;
            for (; ow < ow1; ow++) heap[dst++] = heap[src + ow * sw]!;
            for (; ow < OW; ow++) heap[dst++] = 0;
          }
        }
      }
    }
  }
  if (xs !== x) be.disposeData(xs.dataId);
  const dy2: tf.TensorInfo = { dataId: dy.dataId, shape: [P, CO], dtype: 'float32' };
  const out = product(cols, dy2, false, false, backend);
  be.disposeData(cols.dataId);
  // [K,CO] is already [KH,KW,C,CO] in memory.
  return { dataId: out.dataId, shape: [KH, KW, C, CO], dtype: 'float32' };
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as tf.Conv2DBackpropInputAttrs & { dilations?: number | number[] };
  const dy = inputs.dy as tf.TensorInfo;
  const filter = inputs.filter as tf.TensorInfo;
  const be = backend as WasmBackend;
  checkAttrs('Conv2DBackpropInput', attrs, [dy, filter]);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape, filter.shape as [number, number, number, number], attrs.strides, 1, attrs.pad,
    attrs.dimRoundingMode, false, 'channelsLast');
  const { filterHeight: KH, filterWidth: KW, inChannels: C, outChannels: CO, padInfo: p } = info;
  checkShape('Conv2DBackpropInput', 'dy', dy.shape, info.outShape);

  // dcols = dy·Wᵀ ([P, KH*KW*C]), then scatter-add the patches back (col2im). For stride 1 this
  // measured slightly faster than XNNPACK's Conv2D on the 'full' padding (which does ~40% more
  // MACs on a valid 3x3), and it covers every stride with one code path.
  const { batchSize: n, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const K = KH * KW * C;
  const dy2: tf.TensorInfo = { dataId: dy.dataId, shape: [n * OH * OW, CO], dtype: 'float32' };
  const f2: tf.TensorInfo = { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' };
  const dcols = product(dy2, f2, false, true, backend);
  const dx = be.makeOutput(attrs.inputShape, 'float32');
  const heap = be.wasm.HEAPF32;
  const xOff = offsetOf(be, dx) >> 2;
  let src = offsetOf(be, dcols) >> 2;
  heap.fill(0, xOff, xOff + n * H * W * C);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - p.top + kh;
          for (let kw = 0; kw < KW; kw++, src += C) {
            const iw = ow * sw - p.left + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const dst = xOff + ((b * H + ih) * W + iw) * C;
            for (let c = 0; c < C; c++) heap[dst + c]! += heap[src + c]!;
          }
        }
      }
    }
  }
  be.disposeData(dcols.dataId);
  return dx;
}

function maxPoolGrad(args: KernelArgs): tf.TensorInfo {
  const { inputs, backend } = args;
  const attrs = (args.attrs ?? {}) as unknown as tf.MaxPoolGradAttrs;
  const dy = inputs.dy as tf.TensorInfo;
  const x = inputs.input as tf.TensorInfo;
  const be = backend as WasmBackend;
  if (x.dtype !== 'float32' || dy.dtype !== 'float32') throw new Error('MaxPoolGrad (wasm): only float32 is supported');
  const info = tf.backend_util.computePool2DInfo(
    x.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  checkShape('MaxPoolGrad', 'dy', dy.shape, info.outShape);
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: FH, filterWidth: FW, strideHeight: sh, strideWidth: sw, padInfo: p } = info;
  const dx = be.makeOutput(x.shape, 'float32');
  const heap = be.wasm.HEAPF32;
  const dxOff = offsetOf(be, dx) >> 2;
  const xOff = offsetOf(be, x) >> 2;
  let g = offsetOf(be, dy) >> 2;
  heap.fill(0, dxOff, dxOff + n * H * W * C);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - p.top;
      const ha = Math.max(0, h0);
      const hb = Math.min(H, h0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - p.left;
        const wa = Math.max(0, w0);
        const wb = Math.min(W, w0 + FW);
        for (let c = 0; c < C; c++, g++) {
          // Strict '>' in row-major window order keeps the first maximum, as the cpu backend
          // does: ties are common after a ReLU and must route the gradient to the same cell.
          let best = -Infinity;
          let at = -1;
          for (let h = ha; h < hb; h++) {
            for (let w = wa; w < wb; w++) {
              const i = ((b * H + h) * W + w) * C + c;
              const v = heap[xOff + i]!;
              if (v > best) { best = v; at = i; }
            }
          }
          if (at >= 0) heap[dxOff + at]! += heap[g]!;
        }
      }
    }
  }
  return dx;
}

/** Sum over all but the last axis (every bias gradient) as a JS column sum; the rest as before. */
function sum(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  const r = x.shape.length;
  const axes = tf.util.parseAxisParam(args.attrs?.axis as number | number[], x.shape).sort((a, b) => a - b);
  if (x.dtype !== 'float32' || r < 2 || axes.length !== r - 1 || axes.some((a, i) => a !== i)) return origSum(args);
  const be = args.backend as WasmBackend;
  const C = x.shape[r - 1]!;
  const rows = tf.util.sizeFromShape(x.shape) / C;
  const acc = new Float64Array(C);
  const heap = be.wasm.HEAPF32;
  const off = offsetOf(be, x) >> 2;
  for (let i = 0, p = off; i < rows; i++, p += C) for (let c = 0; c < C; c++) acc[c]! += heap[p + c]!;
  const shape = args.attrs?.keepDims ? [...Array(r - 1).fill(1), C] : [C];
  const out = be.makeOutput(shape, 'float32');
  be.wasm.HEAPF32.set(acc, offsetOf(be, out) >> 2);
  return out;
}

function checkAttrs(kernel: string, attrs: { dataFormat?: string; dilations?: number | number[] }, ts: tf.TensorInfo[]): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(`${kernel} (wasm): only dataFormat NHWC is supported, got ${attrs.dataFormat}`);
  }
  const dil = attrs.dilations ?? 1;
  if ((Array.isArray(dil) ? dil : [dil]).some((d) => d !== 1)) {
    throw new Error(`${kernel} (wasm): only dilations 1 are supported, got ${String(dil)}`);
  }
  for (const t of ts) {
    if (t.dtype !== 'float32') throw new Error(`${kernel} (wasm): only float32 tensors are supported`);
    if (t.shape.length !== 4) throw new Error(`${kernel} (wasm): expected rank-4 tensors, got shape ${t.shape}`);
  }
}

function checkShape(kernel: string, what: string, got: number[], expected: number[]): void {
  if (got.length !== expected.length || got.some((d, i) => d !== expected[i])) {
    throw new Error(`${kernel} (wasm): ${what} shape [${got}] does not match expected [${expected}]`);
  }
}

function offsetOf(be: WasmBackend, t: tf.TensorInfo): number {
  const d = be.dataIdMap.get(t.dataId);
  if (!d) throw new Error('tensor is not on the wasm backend');
  return d.memoryOffset;
}
