// A rank's flat vectors (params.ts) as bytes on the wire, their checksum (the proof that every rank
// ends with the same model), and the optimizer's state, which checkpoints carry with the weights.
import * as tf from '@tensorflow/tfjs';
import { createHash } from 'node:crypto';
import type { ParamSlot } from '../params.ts';

export function checksum(values: Float32Array): string {
  return createHash('sha256').update(bytesOf(values)).digest('hex');
}

export function bytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function floatsOf(bytes: Uint8Array): Float32Array {
  if (bytes.byteOffset % 4 !== 0 || bytes.byteLength % 4 !== 0) throw new Error(`${bytes.byteLength} bytes at offset ${bytes.byteOffset} are no float32 vector`);
  return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
}

/** AdamOptimizer's fields for beta^t (private in its typings; FastAdam keeps them). */
interface AdamBetas {
  readonly accBeta1: tf.Variable;
  readonly accBeta2: tf.Variable;
}

/** Adam's state: its step count and, once it has stepped, first and second moments per variable. */
export interface OptimizerState {
  readonly iterations: number;
  /** beta1^t and beta2^t as the optimizer holds them: setWeights would recompute them with pow(), whose
   * last bit can differ from the running product, and a resumed run would drift from an uninterrupted one. */
  readonly accBeta: readonly [number, number];
  /** [m of every slot..., v of every slot...] in slot order, or empty before the first step. */
  readonly moments: Float32Array;
}

export async function optimizerState(optimizer: tf.Optimizer, slots: readonly ParamSlot[], length: number): Promise<OptimizerState> {
  const [iterations, ...rest] = await optimizer.getWeights();
  const count = Number((await iterations!.tensor.data())[0]);
  const adam = optimizer as unknown as Partial<AdamBetas>;
  const accBeta = [adam.accBeta1?.dataSync()[0] ?? 1, adam.accBeta2?.dataSync()[0] ?? 1] as const;
  if (rest.length === 0) return { iterations: count, accBeta, moments: new Float32Array(0) };
  if (rest.length !== 2 * slots.length) throw new Error(`the optimizer holds ${rest.length} moments for ${slots.length} variables`);
  const moments = new Float32Array(2 * length);
  rest.forEach(({ tensor }, i) => moments.set(tensor.dataSync() as Float32Array, (i < slots.length ? 0 : length) + slots[i % slots.length]!.offset));
  return { iterations: count, accBeta, moments };
}

export async function restoreOptimizer(optimizer: tf.Optimizer, slots: readonly ParamSlot[], length: number, state: OptimizerState): Promise<void> {
  const named: { name: string; tensor: tf.Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
  if (state.moments.length > 0) {
    for (const [half, suffix] of [[0, 'm'], [length, 'v']] as const) {
      for (const { variable, offset, size } of slots) {
        named.push({ name: `${variable.name}/${suffix}`, tensor: tf.tensor(state.moments.subarray(half + offset, half + offset + size), variable.shape) });
      }
    }
  }
  // setWeights makes variables of its own from these tensors.
  await optimizer.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  const adam = optimizer as unknown as Partial<AdamBetas>;
  tf.tidy(() => {
    adam.accBeta1?.assign(tf.scalar(state.accBeta[0]));
    adam.accBeta2?.assign(tf.scalar(state.accBeta[1]));
  });
}
