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
import { heapIndex, type WasmBackend } from './wasm-heap.ts';

type DataId = object;

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap };
type Kernel = (args: KernelArgs) => tf.TensorInfo;

/** XNNPACK repacks the right-hand operand of every matmul whose B tensor it has not seen before;
 *  measured (CPU time, fresh vs cached B for 64x5408x100 and 9x43264x32 products) at 4-6 ns per
 *  element, against 1-1.5 ns per element for a wasm transpose. */
const PACK_COST = 4;

// Global rather than module state: a second copy of this module (tests, bundles) must not wrap
// the already-wrapped BatchMatMul again.
const REGISTERED = Symbol.for('stratus.wasmTrainingKernels');
const globalFlags = globalThis as { [REGISTERED]?: boolean };
let origMatMul: Kernel;
/** dataIds that have been the right operand of an untransposed BatchMatMul (see batchMatMul). */
const seenB = new WeakSet<DataId>();
let origTranspose: Kernel;
let origSum: Kernel;
let origIdentity: Kernel;
let origCast: Kernel;

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
  origIdentity = kernelOf('Identity').kernelFunc as unknown as Kernel;
  origCast = kernelOf('Cast').kernelFunc as unknown as Kernel;
  // Besides the missing Conv2DBackpropFilter and the transposed BatchMatMul: the stock
  // Conv2DBackpropInput and MaxPoolGrad are plain loops (~5x slower than ours), Sum
  // transposes before reducing the leading axes of every bias gradient, Identity copies
  // every tensor that the gradient tape saves (3 copies of the conv activations per step), and
  // Cast copies even to its own dtype (ReLU's gradient casts a float32 step() to float32).
  const replace: [string, Kernel][] = [
    ['BatchMatMul', batchMatMul],
    ['Conv2DBackpropFilter', conv2DBackpropFilter],
    ['Conv2DBackpropInput', conv2DBackpropInput],
    ['MaxPoolGrad', maxPoolGrad],
    ['Sum', sum],
    ['Identity', identity],
    ['Cast', cast],
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

/**
 * Identity shares the input's buffer instead of copying it, as the cpu backend does: tfjs tensors
 * are immutable (a Variable's assign swaps in another dataId), so no kernel ever writes into it.
 */
function identity(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  if (x.dtype === 'string') return origIdentity(args);
  (args.backend as WasmBackend).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** A cast to the tensor's own dtype is an identity (shared buffer); other casts as before. */
function cast(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs.x as tf.TensorInfo;
  return args.attrs?.dtype === x.dtype ? identity(args) : origCast(args);
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
  const b = inputs.b as tf.TensorInfo;
  if (!tA && !tB) {
    // XNNPACK keeps a packed copy of every B it has multiplied by until B is disposed, so a B seen
    // before (inference weights) goes straight through. A new B (the weights of a training step,
    // new after every optimizer update) is used once: product() picks the orientation that packs less.
    if (seenB.has(b.dataId)) return origMatMul(args);
    seenB.add(b.dataId);
  }
  return product(inputs.a as tf.TensorInfo, b, tA, tB, backend);
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
  const { dy, operand: x, be, info } = readBackprop<tf.Conv2DBackpropFilterAttrs>('Conv2DBackpropFilter', args, 'x', (attrs, x) => [x.shape, attrs.filterShape]);
  const { batchSize: n, inChannels: C, outHeight: OH, outWidth: OW, filterHeight: KH, filterWidth: KW, outChannels: CO } = info;
  const top = info.padInfo.top;
  const left = info.padInfo.left;
  const P = n * OH * OW;
  const K = KH * KW * C;
  const dy2: tf.TensorInfo = { dataId: dy.dataId, shape: [P, CO], dtype: 'float32' };

  // dW = colsᵀ·dy with cols the [P,K] patch matrix. XNNPACK packs its right operand, so either dy
  // ([P,CO], direct: cols written as [K,P]) or cols (flipped: dWᵀ = dyᵀ·cols, dy transposed) is
  // packed; choose the cheaper one, as product() does (the seed's C=1 layer flips, C=32 does not).
  const flip = CO * P + PACK_COST * P * K < PACK_COST * P * CO;
  const cols = be.makeOutput(flip ? [P, K] : [K, P], 'float32');
  if (flip) im2colRows(be, x, cols, info, top, left);
  else im2colColumns(be, x, cols, info, top, left);
  let out: tf.TensorInfo;
  if (flip) {
    const dyT = swapLast2(dy2, be);
    const outT = origMatMul({ inputs: { a: dyT, b: cols }, backend: be, attrs: { transposeA: false, transposeB: false } });
    be.disposeData(dyT.dataId);
    out = swapLast2(outT, be);
    be.disposeData(outT.dataId);
  } else {
    out = origMatMul({ inputs: { a: cols, b: dy2 }, backend: be, attrs: { transposeA: false, transposeB: false } });
  }
  be.disposeData(cols.dataId);
  // [K,CO] is already [KH,KW,C,CO] in memory.
  return { dataId: out.dataId, shape: [KH, KW, C, CO], dtype: 'float32' };
}

type ConvInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;

/** Patch matrix as [P, K] (one row per output pixel, K = KH*KW*C in filter order). */
function im2colRows(be: WasmBackend, x: tf.TensorInfo, cols: tf.TensorInfo, info: ConvInfo, top: number, left: number): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const heap = be.wasm.HEAPF32;
  const xOff = heapIndex(be, x);
  let dst = heapIndex(be, cols);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        for (let kh = 0; kh < KH; kh++) {
          const ih = oh * sh - top + kh;
          for (let kw = 0; kw < KW; kw++) {
            const iw = ow * sw - left + kw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) {
              for (let c = 0; c < C; c++) heap[dst + c] = 0;
            } else {
              const src = xOff + ((b * H + ih) * W + iw) * C;
              for (let c = 0; c < C; c++) heap[dst + c] = heap[src + c]!;
            }
            dst += C;
          }
        }
      }
    }
  }
}

/** Patch matrix as [K, P]: its rows walk x along the width, so channels go outermost first. */
function im2colColumns(be: WasmBackend, x: tf.TensorInfo, cols: tf.TensorInfo, info: ConvInfo, top: number, left: number): void {
  const { batchSize: n, inHeight: H, inWidth: W, inChannels: C, outHeight: OH, outWidth: OW } = info;
  const { filterHeight: KH, filterWidth: KW, strideHeight: sh, strideWidth: sw } = info;
  const P = n * OH * OW;
  // [C,N,H,W] so the inner loop reads contiguously (a stride-C gather otherwise).
  const xs = C > 1 ? origTranspose({ inputs: { x }, backend: be, attrs: { perm: [3, 0, 1, 2] } }) : x;
  // Read views after every allocation: malloc may grow wasm memory and detach older views.
  const heap = be.wasm.HEAPF32;
  const xOff = heapIndex(be, xs);
  const cOff = heapIndex(be, cols);
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
}

function conv2DBackpropInput(args: KernelArgs): tf.TensorInfo {
  const { attrs, dy, operand: filter, be, info } = readBackprop<tf.Conv2DBackpropInputAttrs>('Conv2DBackpropInput', args, 'filter', (attrs, filter) => [attrs.inputShape, filter.shape]);
  const { filterHeight: KH, filterWidth: KW, inChannels: C, outChannels: CO, padInfo: p } = info;

  // dcols = dy·Wᵀ ([P, KH*KW*C]), then scatter-add the patches back (col2im). For stride 1 this
  // measured slightly faster than XNNPACK's Conv2D on the 'full' padding (which does ~40% more
  // MACs on a valid 3x3), and it covers every stride with one code path.
  const { batchSize: n, inHeight: H, inWidth: W, outHeight: OH, outWidth: OW, strideHeight: sh, strideWidth: sw } = info;
  const K = KH * KW * C;
  const dy2: tf.TensorInfo = { dataId: dy.dataId, shape: [n * OH * OW, CO], dtype: 'float32' };
  const f2: tf.TensorInfo = { dataId: filter.dataId, shape: [K, CO], dtype: 'float32' };
  const dcols = product(dy2, f2, false, true, be);
  const dx = be.makeOutput(attrs.inputShape, 'float32');
  const heap = be.wasm.HEAPF32;
  const xOff = heapIndex(be, dx);
  let src = heapIndex(be, dcols);
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
  const dxOff = heapIndex(be, dx);
  const xOff = heapIndex(be, x);
  let g = heapIndex(be, dy);
  heap.fill(0, dxOff, dxOff + n * H * W * C);
  const y = inputs.output as tf.TensorInfo | undefined;
  const yOk = y !== undefined && y.dtype === 'float32' && tf.util.arraysEqual(y.shape, dy.shape);
  if (yOk && FH === 2 && FW === 2 && p.top === 0 && p.left === 0 && (OH - 1) * sh + 2 <= H && (OW - 1) * sw + 2 <= W) {
    maxPoolGrad2x2(heap, xOff, heapIndex(be, y), g, dxOff, n, H, W, C, OH, OW, sh, sw);
    return dx;
  }
  // Offsets of the window's cells (channel 0), in row-major window order, computed once per window
  // rather than once per cell and channel.
  const cells = new Int32Array(FH * FW);
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < OH; oh++) {
      const h0 = oh * sh - p.top;
      const ha = Math.max(0, h0);
      const hb = Math.min(H, h0 + FH);
      for (let ow = 0; ow < OW; ow++) {
        const w0 = ow * sw - p.left;
        const wa = Math.max(0, w0);
        const wb = Math.min(W, w0 + FW);
        let count = 0;
        for (let h = ha; h < hb; h++) for (let w = wa; w < wb; w++) cells[count++] = ((b * H + h) * W + w) * C;
        // Strict '>' in row-major window order keeps the first maximum, as the cpu backend
        // does: ties are common after a ReLU and must route the gradient to the same cell.
        for (let c = 0; c < C; c++, g++) {
          let at = -1;
          let best = -Infinity;
          for (let j = 0; j < count; j++) {
            const i = cells[j]! + c;
            const v = heap[xOff + i]!;
            if (v > best) {
              best = v;
              at = i;
            }
          }
          if (at >= 0) heap[dxOff + at]! += heap[g]!;
        }
      }
    }
  }
  return dx;
}

/**
 * MaxPoolGrad for 2x2 windows that all lie inside the input (every pool in this project's models),
 * without branches: the cell that gets the gradient is the first one equal to the forward output
 * y (the same cell as the first strict maximum). Compare-and-branch on random activations
 * mispredicts about once per window; this measured 1.4x faster than the branchy unrolled loop
 * and 2.5x faster than the general one.
 */
function maxPoolGrad2x2(
  heap: Float32Array, xOff: number, yOff: number, dyOff: number, dxOff: number,
  n: number, H: number, W: number, C: number, OH: number, OW: number, sh: number, sw: number,
): void {
  const right = C;
  const down = W * C;
  const cellOffset = new Int32Array([0, right, down, down + right]);
  let o = 0;
  for (let b = 0; b < n; b++) {
    for (let oh = 0; oh < OH; oh++) {
      for (let ow = 0; ow < OW; ow++) {
        const c0 = ((b * H + oh * sh) * W + ow * sw) * C;
        for (let c = 0; c < C; c++, o++) {
          const i = c0 + c;
          const m = heap[yOff + o]!;
          // Index of the first cell equal to m: 0 if cell 0 is, else 1 + (0 if cell 1 is, else ...).
          const k = +(heap[xOff + i]! !== m) * (1 + +(heap[xOff + i + right]! !== m) * (1 + +(heap[xOff + i + down]! !== m)));
          heap[dxOff + i + cellOffset[k]!]! += heap[dyOff + o]!;
        }
      }
    }
  }
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
  const off = heapIndex(be, x);
  for (let i = 0, p = off; i < rows; i++, p += C) for (let c = 0; c < C; c++) acc[c]! += heap[p + c]!;
  const shape = args.attrs?.keepDims ? [...Array(r - 1).fill(1), C] : [C];
  const out = be.makeOutput(shape, 'float32');
  be.wasm.HEAPF32.set(acc, heapIndex(be, out));
  return out;
}

type Shape4 = [number, number, number, number];
type ConvAttrs = Pick<tf.Conv2DBackpropInputAttrs, 'strides' | 'pad' | 'dimRoundingMode'> & { dataFormat?: string; dilations?: number | number[] };

interface Backprop<A> {
  readonly attrs: A;
  readonly dy: tf.TensorInfo;
  /** The convolution's other input: x (for the filter's gradient) or the filter (for x's). */
  readonly operand: tf.TensorInfo;
  readonly be: WasmBackend;
  readonly info: ConvInfo;
}

/**
 * A conv backprop kernel's arguments and the geometry of its convolution (`shapes`: its input and filter
 * shapes), once they are checked to be what these kernels handle.
 */
function readBackprop<A extends ConvAttrs>(kernel: string, args: KernelArgs, operandName: 'x' | 'filter', shapes: (attrs: A, operand: tf.TensorInfo) => [number[], number[]]): Backprop<A> {
  const attrs = (args.attrs ?? {}) as unknown as A;
  const dy = args.inputs.dy as tf.TensorInfo;
  const operand = args.inputs[operandName] as tf.TensorInfo;
  checkAttrs(kernel, attrs, [operand, dy]);
  const [inShape, filterShape] = shapes(attrs, operand);
  const info = tf.backend_util.computeConv2DInfo(inShape as Shape4, filterShape as Shape4, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode, false, 'channelsLast');
  checkShape(kernel, 'dy', dy.shape, info.outShape);
  return { attrs, dy, operand, be: args.backend as WasmBackend, info };
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

