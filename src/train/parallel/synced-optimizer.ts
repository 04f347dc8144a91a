// The optimizer every training worker steps with: it wraps the run's real optimizer (fastAdam) and
// keeps the workers' models identical through a SharedAllReduce.
//   gradients: each step's gradients are averaged before the update. Every worker then applies the
//              same update to the same weights with the same optimizer state: bit-identical models.
//   weights:   local steps, and every `syncEvery` steps the weights themselves are averaged (local
//              SGD): fewer exchanges, but the optimizer states drift apart between them.
import * as tf from '@tensorflow/tfjs';
import { applyGradientVector, readGradients, readWeights, writeWeights, type ParamSlot } from '../params.ts';
import type { SharedAllReduce } from './shared-allreduce.ts';
import type { SyncMode } from './sync-modes.ts';

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
    readGradients(named, this.slots, this.allReduce.own);
    applyGradientVector(this.inner, this.slots, this.allReduce.average());
    this.incrementIterations();
  }

  /** Averages the weights now (all workers together; weights mode: also at the end of an epoch, so all
   * workers score one model). */
  syncWeights(): void {
    readWeights(this.slots, this.allReduce.own);
    writeWeights(this.slots, this.allReduce.average());
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
