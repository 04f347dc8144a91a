/**
 * Adam with one fused kernel per variable on the wasm backend.
 *
 * tfjs' AdamOptimizer spends ~13 kernel dispatches per variable and step (mul, add, square, div,
 * sqrt, ...), each a full pass over the weights plus an allocation: ~5 ms of a 50 ms seed-model
 * step. Here one WebAssembly SIMD kernel over the heap (adam-kernel.ts) does the same arithmetic. State (the m/v variables,
 * accBeta1/2, iterations) is kept in AdamOptimizer's own fields, so getWeights/setWeights/dispose
 * and the learningRate field that setLearningRate decays all behave as before; on any other backend
 * the stock update runs.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { adamKernel, type AdamConstants } from './adam-kernel.ts';
import { heapIndex, type WasmBackend } from './wasm-heap.ts';

export const ADAM_KERNEL = 'StratusAdamUpdate';

export interface AdamAttrs { beta1: number; beta2: number; learningRate: number; epsilon: number; oneMinusAccBeta1: number; oneMinusAccBeta2: number }

/** The fields of AdamOptimizer that its typings keep private. */
interface AdamState {
  learningRate: number;
  beta1: number;
  beta2: number;
  epsilon: number;
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
}

/** Inputs value, m, v, gradient (float32, same shape); outputs the new value, m and v. */
function adamUpdate(args: { inputs: tf.NamedTensorInfoMap; backend: unknown; attrs?: tf.NamedAttrMap }): tf.TensorInfo[] {
  const be = args.backend as WasmBackend;
  const { value, m, v, gradient } = args.inputs as Record<'value' | 'm' | 'v' | 'gradient', tf.TensorInfo>;
  const a = args.attrs as unknown as AdamAttrs;
  for (const t of [value, m, v, gradient]) {
    if (t.dtype !== 'float32') throw new Error(`${ADAM_KERNEL}: only float32 is supported`);
    if (!tf.util.arraysEqual(t.shape, value.shape)) throw new Error(`${ADAM_KERNEL}: shapes differ: [${t.shape}] vs [${value.shape}]`);
  }
  const outValue = be.makeOutput(value.shape, 'float32');
  const outM = be.makeOutput(value.shape, 'float32');
  const outV = be.makeOutput(value.shape, 'float32');
  const n = tf.util.sizeFromShape(value.shape);
  const at = (t: tf.TensorInfo) => heapIndex(be, t) * 4;
  const offsets = { values: at(value), m: at(m), v: at(v), gradient: at(gradient), intoValues: at(outValue), intoM: at(outM), intoV: at(outV) };
  adamKernel(be.wasm.asm.memory)(offsets, n, adamConstants(a));
  return [outValue, outM, outV];
}

/**
 * The kernel's constants: lr·(m/c1) / (sqrt(v/c2) + eps) with the bias corrections folded in, so the
 * kernel does one square root and one division an element, not three. FastAdam and the sharded update
 * of worker threads (parallel/sharded-adam.ts) both go through here and adam-kernel.ts: the same bits.
 */
export function adamConstants(a: AdamAttrs): AdamConstants {
  return {
    beta1: a.beta1,
    beta2: a.beta2,
    g1: 1 - a.beta1,
    g2: 1 - a.beta2,
    step: a.learningRate / a.oneMinusAccBeta1,
    unbias2: 1 / Math.sqrt(a.oneMinusAccBeta2),
    epsilon: a.epsilon,
  };
}

let registered = false;
/** Registers the fused update for 'wasm' (idempotent); FastAdam calls it itself. */
export function registerAdamKernel(): void {
  if (registered || tf.getKernel(ADAM_KERNEL, 'wasm')) {
    registered = true;
    return;
  }
  tf.registerKernel({ kernelName: ADAM_KERNEL, backendName: 'wasm', kernelFunc: adamUpdate as unknown as tf.KernelFunc });
  registered = true;
}

/** AdamOptimizer.applyGradients' parameter (its NamedTensor type is not re-exported by tfjs). */
type GradientsArg = Parameters<tf.AdamOptimizer['applyGradients']>[0];

/** Adam's hyper-parameters as they are now (setLearningRate changes the rate between epochs). */
export interface AdamSettings {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
}

export class FastAdam extends tf.AdamOptimizer {
  constructor(learningRate: number, beta1 = 0.9, beta2 = 0.999, epsilon?: number) {
    super(learningRate, beta1, beta2, epsilon);
    registerAdamKernel();
  }

  settings(): AdamSettings {
    const { learningRate, beta1, beta2, epsilon } = this as unknown as AdamState;
    return { learningRate, beta1, beta2, epsilon };
  }

  override applyGradients(variableGradients: GradientsArg): void {
    if (tf.getBackend() !== 'wasm') {
      super.applyGradients(variableGradients);
      return;
    }
    const s = this as unknown as AdamState;
    const names = Array.isArray(variableGradients) ? variableGradients.map((v) => v.name) : Object.keys(variableGradients);
    tf.tidy(() => {
      // The bias corrections in float32, as `sub(1, accBeta)` gives them to the stock optimizer.
      const oneMinusAccBeta1 = Math.fround(1 - s.accBeta1.dataSync()[0]!);
      const oneMinusAccBeta2 = Math.fround(1 - s.accBeta2.dataSync()[0]!);
      names.forEach((name, i) => {
        const value = tf.engine().registeredVariables[name]!;
        s.accumulatedFirstMoment[i] ??= { originalName: `${name}/m`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        s.accumulatedSecondMoment[i] ??= { originalName: `${name}/v`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
        const gradient = Array.isArray(variableGradients) ? variableGradients[i]!.tensor : variableGradients[name];
        if (gradient == null) return;
        const m = s.accumulatedFirstMoment[i]!.variable;
        const v = s.accumulatedSecondMoment[i]!.variable;
        const attrs: AdamAttrs = { beta1: s.beta1, beta2: s.beta2, learningRate: s.learningRate, epsilon: s.epsilon, oneMinusAccBeta1, oneMinusAccBeta2 };
        const [newValue, newM, newV] = tf.engine().runKernel(ADAM_KERNEL, { value, m, v, gradient }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
        m.assign(newM!);
        v.assign(newV!);
        value.assign(newValue!);
      });
      s.accBeta1.assign(tf.mul(s.accBeta1, s.beta1));
      s.accBeta2.assign(tf.mul(s.accBeta2, s.beta2));
    });
    this.incrementIterations();
  }
}

/** Drop-in for tf.train.adam(learningRate). */
export function fastAdam(learningRate: number): FastAdam {
  return new FastAdam(learningRate);
}

/**
 * Decays the learning rate in place: AdamOptimizer keeps it protected but reads it on every step, and
 * rebuilding the optimizer per epoch would throw its moment estimates away.
 */
export function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}
