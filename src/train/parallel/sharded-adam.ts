// Adam for worker threads that average their gradients, with the update split between them: each worker
// updates only its own slice of the parameter vector (the slice it averages in SharedAllReduce) and keeps
// only that slice's moment estimates; every worker then copies the whole new vector into its model. Each
// worker used to apply the same update to every parameter, about 3 ms a step for the seed arch, now shared.
// The same kernel and constants as FastAdam (adam-kernel.ts, adamConstants) and the same float32 bias
// corrections, so the weights are the bits one FastAdam reaches from the same mean gradients
// (test/train/distributed/ranks.test.ts checks it).
import { adamKernel, type AdamKernel } from '../adam-kernel.ts';
import { adamConstants, type AdamSettings } from '../fast-adam.ts';

const PAGE_BYTES = 65_536;

export class ShardedAdam {
  /** The kernel's memory: the slice's weights, first moments, second moments and gradients, in that order. */
  private readonly floats: Float32Array;
  private readonly kernel: AdamKernel;
  private readonly length: number;
  /** β^t in float32, as AdamOptimizer keeps them in its accBeta variables. */
  private accBeta1: number;
  private accBeta2: number;

  /** `settings` is asked at every step; `values`: the current weights of this worker's slice (copied). */
  constructor(
    private readonly settings: () => AdamSettings,
    values: Float32Array,
  ) {
    this.length = values.length;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil((4 * this.length * 4) / PAGE_BYTES)) });
    this.floats = new Float32Array(memory.buffer, 0, 4 * this.length);
    this.floats.set(values);
    this.kernel = adamKernel(memory);
    const { beta1, beta2 } = settings();
    this.accBeta1 = Math.fround(beta1);
    this.accBeta2 = Math.fround(beta2);
  }

  /** Turns the slice's mean gradients, in place, into its new weights. */
  step(meanGradient: Float32Array): void {
    const { length, floats } = this;
    const bytes = (region: number) => region * length * 4;
    floats.set(meanGradient, 3 * length);
    const { learningRate, beta1, beta2, epsilon } = this.settings();
    const constants = adamConstants({
      learningRate,
      beta1,
      beta2,
      epsilon,
      oneMinusAccBeta1: Math.fround(1 - this.accBeta1),
      oneMinusAccBeta2: Math.fround(1 - this.accBeta2),
    });
    this.kernel({ values: 0, m: bytes(1), v: bytes(2), gradient: bytes(3), intoValues: 0, intoM: bytes(1), intoV: bytes(2) }, length, constants);
    meanGradient.set(floats.subarray(0, length));
    // The product of two float32 values is exact in float64: fround gives float32's own product.
    this.accBeta1 = Math.fround(this.accBeta1 * Math.fround(beta1));
    this.accBeta2 = Math.fround(this.accBeta2 * Math.fround(beta2));
  }
}
