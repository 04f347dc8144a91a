// The optimizer every training worker steps with: it wraps the run's real optimizer (fastAdam) and
// keeps the workers' models identical through a SharedAllReduce.
//   gradients: each step's gradients are averaged before the update, and each worker updates its own
//              slice of the weights with Adam (sharded-adam.ts) before all copy the whole vector back:
//              bit-identical models, and the update's cost shared.
//   weights:   local steps, and every `syncEvery` steps the weights themselves are averaged (local
//              SGD): fewer exchanges, but the optimizer states drift apart between them.
import * as tf from '@tensorflow/tfjs';
import type { FastAdam } from '../fast-adam.ts';
import { readGradients, readWeights, writeWeights, type ParamSlot } from '../params.ts';
import { ShardedAdam } from './sharded-adam.ts';
import type { SharedAllReduce } from './shared-allreduce.ts';
import type { SyncMode } from './sync-modes.ts';

/** Optimizer.applyGradients' parameter (its NamedTensor type is not re-exported by tfjs). */
type GradientsArg = Parameters<tf.Optimizer['applyGradients']>[0];

export class SyncedOptimizer extends tf.Optimizer {
  private localSteps = 0;
  /** gradients mode: this worker's part of the Adam update (made at the first step, from the weights then). */
  private sharded: ShardedAdam | null = null;

  constructor(
    readonly inner: FastAdam,
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
      (this.inner as tf.Optimizer).applyGradients(named);
      this.incrementIterations();
      if (++this.localSteps === this.syncEvery) this.syncWeights();
      return;
    }
    readGradients(named, this.slots, this.allReduce.own);
    this.sharded ??= this.shardedAdam();
    const sharded = this.sharded;
    writeWeights(this.slots, this.allReduce.averageThen((slice) => sharded.step(slice)));
    this.incrementIterations();
  }

  private shardedAdam(): ShardedAdam {
    const { from, to } = this.allReduce.slice;
    const length = this.slots.reduce((n, slot) => n + slot.size, 0);
    const weights = readWeights(this.slots, new Float32Array(length));
    return new ShardedAdam(() => this.inner.settings(), weights.subarray(from, to));
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
