// A model's trainable variables as one flat float32 vector, in the model's own (deterministic) order:
// what worker threads and ranks exchange (gradients, weights), and what checkpoints and checksums hold.
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasm-heap.ts';

/** Where each trainable variable sits in the flat vector. */
export interface ParamSlot {
  readonly variable: tf.Variable;
  readonly offset: number;
  readonly size: number;
}

export function paramLayout(model: tf.LayersModel): { slots: ParamSlot[]; length: number } {
  const slots: ParamSlot[] = [];
  let offset = 0;
  for (const weight of model.trainableWeights) {
    const variable = tf.engine().registeredVariables[weight.name];
    if (!variable) throw new Error(`no variable named ${weight.name}`);
    slots.push({ variable, offset, size: variable.size });
    offset += variable.size;
  }
  return { slots, length: offset };
}

/**
 * Copies a float32 tensor's values into `into` at `offset`. On wasm straight from the heap: dataSync
 * would first copy them into a fresh array, and an exchange copies ~2 MB per step for the seed arch.
 */
function copyOut(tensor: tf.Tensor, into: Float32Array, offset: number): void {
  const backend = tf.backend() as unknown as Partial<WasmBackend>;
  const entry = tf.getBackend() === 'wasm' ? backend.dataIdMap?.get(tensor.dataId) : undefined;
  if (!entry || !backend.wasm || tensor.dtype !== 'float32') {
    into.set(tensor.dataSync() as Float32Array, offset);
    return;
  }
  const from = entry.memoryOffset >> 2;
  into.set(backend.wasm.HEAPF32.subarray(from, from + tensor.size), offset);
}

/** Copies the current weights of `slots` into `into`. */
export function readWeights(slots: readonly ParamSlot[], into: Float32Array): Float32Array {
  for (const { variable, offset } of slots) copyOut(variable, into, offset);
  return into;
}

export function writeWeights(slots: readonly ParamSlot[], values: Float32Array): void {
  // The backend copies the values into its own memory at once, so a view on a shared vector is safe.
  for (const { variable, offset, size } of slots) tf.tidy(() => variable.assign(tf.tensor(values.subarray(offset, offset + size), variable.shape)));
}

/** Copies one step's gradients, by variable name, into `into`. */
export function readGradients(gradients: tf.NamedTensorMap, slots: readonly ParamSlot[], into: Float32Array): Float32Array {
  for (const { variable, offset } of slots) {
    const gradient = gradients[variable.name];
    if (!gradient) throw new Error(`no gradient for ${variable.name}`);
    copyOut(gradient, into, offset);
  }
  return into;
}

/** One update of `optimizer` with the gradients a flat vector holds (the workers' or ranks' mean). */
export function applyGradientVector(optimizer: tf.Optimizer, slots: readonly ParamSlot[], vector: Float32Array): void {
  const named: tf.NamedTensorMap = {};
  for (const { variable, offset, size } of slots) named[variable.name] = tf.tensor(vector.subarray(offset, offset + size), variable.shape);
  try {
    optimizer.applyGradients(named);
  } finally {
    tf.dispose(Object.values(named));
  }
}
