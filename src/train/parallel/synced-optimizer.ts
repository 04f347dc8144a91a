// The optimizer every training worker steps with: it wraps the run's real optimizer (fastAdam) and
// keeps the workers' models identical through a SharedAllReduce.
//   gradients: each step's gradients are averaged before the update. Every worker then applies the
//              same update to the same weights with the same optimizer state: bit-identical models.
//   weights:   local steps, and every `syncEvery` steps the weights themselves are averaged (local
//              SGD): fewer exchanges, but the optimizer states drift apart between them.
import * as tf from '@tensorflow/tfjs';
import type { SharedAllReduce } from './shared-allreduce.ts';

import type { SyncMode } from './sync-modes.ts';

/** Where each trainable variable sits in the flat vector the workers exchange. */
export interface ParamSlot {
  readonly variable: tf.Variable;
  readonly offset: number;
  readonly size: number;
}

/** The model's trainable variables, in the model's own (deterministic) order. */
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

/** The slice of tfjs' BackendWasm read here; not in its public typings (fast-adam.ts reads the same). */
interface WasmHeap {
  wasm: { HEAPF32: Float32Array };
  dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
}

/**
 * Copies a float32 tensor's values into `into` at `offset`. On wasm straight from the heap: dataSync
 * would first copy them into a fresh array, and the exchange copies ~2 MB per step for the seed arch.
 */
function copyOut(tensor: tf.Tensor, into: Float32Array, offset: number): void {
  const backend = tf.backend() as unknown as Partial<WasmHeap>;
  const entry = tf.getBackend() === 'wasm' ? backend.dataIdMap?.get(tensor.dataId) : undefined;
  if (!entry || !backend.wasm || tensor.dtype !== 'float32') {
    into.set(tensor.dataSync() as Float32Array, offset);
    return;
  }
  const from = entry.memoryOffset >> 2;
  into.set(backend.wasm.HEAPF32.subarray(from, from + tensor.size), offset);
}

/** Copies the current weights of `slots` into one flat vector. */
export function readWeights(slots: readonly ParamSlot[], into: Float32Array): Float32Array {
  for (const { variable, offset } of slots) copyOut(variable, into, offset);
  return into;
}

/** Replaces every worker's weights by their average (all workers must call it together). */
export function averageWeights(slots: readonly ParamSlot[], allReduce: SharedAllReduce): void {
  readWeights(slots, allReduce.own);
  const mean = allReduce.average();
  for (const { variable, offset, size } of slots) {
    // The backend copies the values into its own memory at once, so a view on the shared vector is safe.
    tf.tidy(() => variable.assign(tf.tensor(mean.subarray(offset, offset + size), variable.shape)));
  }
}

/** Optimizer.applyGradients' parameter (its NamedTensor type is not re-exported by tfjs). */
type GradientsArg = Parameters<tf.Optimizer['applyGradients']>[0];

export class SyncedOptimizer extends tf.Optimizer {
  private localSteps = 0;

  constructor(
    readonly inner: tf.Optimizer,
    private readonly slots: readonly ParamSlot[],
    private readonly allReduce: SharedAllReduce,
    private readonly mode: SyncMode,
    private readonly syncEvery: number,
  ) {
    super();
    if (mode === 'weights' && (!Number.isInteger(syncEvery) || syncEvery < 1)) throw new Error(`syncEvery must be a positive integer, got ${syncEvery}`);
  }

  /** Steps since the weights were last averaged (weights mode). */
  get unsyncedSteps(): number {
    return this.localSteps;
  }

  override applyGradients(variableGradients: GradientsArg): void {
    const named: tf.NamedTensorMap = Array.isArray(variableGradients)
      ? Object.fromEntries(variableGradients.map((g: { name: string; tensor: tf.Tensor }) => [g.name, g.tensor]))
      : variableGradients;
    if (this.mode === 'weights') {
      this.inner.applyGradients(named);
      this.incrementIterations();
      if (++this.localSteps === this.syncEvery) this.syncWeights();
      return;
    }
    const own = this.allReduce.own;
    for (const { variable, offset } of this.slots) {
      const gradient = named[variable.name];
      if (!gradient) throw new Error(`no gradient for ${variable.name}`);
      copyOut(gradient, own, offset);
    }
    const mean = this.allReduce.average();
    const averaged: tf.NamedTensorMap = {};
    for (const { variable, offset, size } of this.slots) averaged[variable.name] = tf.tensor(mean.subarray(offset, offset + size), variable.shape);
    try {
      this.inner.applyGradients(averaged);
    } finally {
      tf.dispose(Object.values(averaged));
    }
    this.incrementIterations();
  }

  /** Averages the weights now (weights mode: also at the end of an epoch, so all workers score one model). */
  syncWeights(): void {
    averageWeights(this.slots, this.allReduce);
    this.localSteps = 0;
  }

  override dispose(): void {
    this.inner.dispose();
    super.dispose();
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { mode: this.mode, syncEvery: this.syncEvery };
  }

  static className = 'StratusSyncedOptimizer';
}
