// Allreduce of one float32 vector across the worker threads of a process, through shared memory.
// Each worker writes its vector into its own slot, then averages its own slice of the parameter
// vector over all slots into `mean`: every element is written by one worker only, and summed in rank
// order, so all workers read back the same bits. Two barriers per call keep the phases apart.
// A barrier that waits longer than `timeoutMs`, or that the coordinator aborts (a worker died), throws:
// a stalled or dead worker fails the run instead of hanging it.

/** Control words in the Int32 header. */
const ARRIVED = 0;
const GENERATION = 1;
const ABORTED = 2;
const CONTROL_WORDS = 4;

export interface SharedAllReduceBuffers {
  readonly control: SharedArrayBuffer;
  /** workers × length float32, one slot per worker. */
  readonly slots: SharedArrayBuffer;
  /** length float32: the average every worker reads back. */
  readonly mean: SharedArrayBuffer;
  readonly workers: number;
  readonly length: number;
}

export function createAllReduceBuffers(workers: number, length: number): SharedAllReduceBuffers {
  return {
    control: new SharedArrayBuffer(CONTROL_WORDS * 4),
    slots: new SharedArrayBuffer(workers * length * 4),
    mean: new SharedArrayBuffer(length * 4),
    workers,
    length,
  };
}

export class AllReduceAborted extends Error {
  override name = 'AllReduceAborted';
}

/** Marks the run failed and wakes every worker waiting at a barrier (coordinator side). */
export function abortAllReduce(buffers: SharedAllReduceBuffers): void {
  const control = new Int32Array(buffers.control);
  Atomics.store(control, ABORTED, 1);
  Atomics.add(control, GENERATION, 1);
  Atomics.notify(control, GENERATION);
}

export class SharedAllReduce {
  private readonly control: Int32Array;
  private readonly slots: Float32Array;
  readonly mean: Float32Array;
  /** This worker's slot. */
  readonly own: Float32Array;
  private readonly from: number;
  private readonly to: number;
  /** Barriers passed, for the error message of a stall. */
  private barriers = 0;

  constructor(
    readonly buffers: SharedAllReduceBuffers,
    readonly rank: number,
    private readonly timeoutMs: number,
  ) {
    const { workers, length } = buffers;
    if (!Number.isInteger(rank) || rank < 0 || rank >= workers) throw new Error(`rank ${rank} is outside 0..${workers - 1}`);
    this.control = new Int32Array(buffers.control);
    this.slots = new Float32Array(buffers.slots);
    this.mean = new Float32Array(buffers.mean);
    this.own = this.slots.subarray(rank * length, (rank + 1) * length);
    // Contiguous slices of near-equal size; the last ranks take the remainder's shortfall.
    const per = Math.ceil(length / workers);
    this.from = Math.min(length, rank * per);
    this.to = Math.min(length, this.from + per);
  }

  /** This worker's slice of the vector: the elements it averages. */
  get slice(): { readonly from: number; readonly to: number } {
    return { from: this.from, to: this.to };
  }

  /** After every worker has filled `own`: averages the slots into `mean` (read it until the next call). */
  average(): Float32Array {
    return this.averageThen(null);
  }

  /**
   * average(), and before the second barrier `update` may rewrite this worker's slice of the mean in
   * place (a sharded optimizer step): what every worker reads back is then the slices as updated.
   */
  averageThen(update: ((ownSlice: Float32Array) => void) | null): Float32Array {
    this.barrier();
    const { workers, length } = this.buffers;
    const slots = this.slots;
    const mean = this.mean;
    const scale = 1 / workers;
    for (let i = this.from; i < this.to; i++) {
      let sum = slots[i]!;
      for (let w = 1; w < workers; w++) sum += slots[w * length + i]!;
      mean[i] = sum * scale;
    }
    update?.(mean.subarray(this.from, this.to));
    this.barrier();
    return mean;
  }

  /** Waits until every worker has arrived (a sense-reversing barrier on a generation counter). */
  barrier(): void {
    const control = this.control;
    this.checkAborted();
    const generation = Atomics.load(control, GENERATION);
    if (Atomics.add(control, ARRIVED, 1) === this.buffers.workers - 1) {
      Atomics.store(control, ARRIVED, 0);
      Atomics.add(control, GENERATION, 1);
      Atomics.notify(control, GENERATION);
    } else {
      const deadline = performance.now() + this.timeoutMs;
      while (Atomics.load(control, GENERATION) === generation) {
        const left = deadline - performance.now();
        if (left <= 0) {
          throw new Error(
            `worker ${this.rank} waited ${(this.timeoutMs / 1000).toFixed(0)} s at barrier ${this.barriers} for the other workers: one stalled or died`,
          );
        }
        Atomics.wait(control, GENERATION, generation, left);
      }
    }
    this.checkAborted();
    this.barriers++;
  }

  private checkAborted(): void {
    if (Atomics.load(this.control, ABORTED) !== 0) throw new AllReduceAborted('training aborted: another worker failed or the run was stopped');
  }
}
