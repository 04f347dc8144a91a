// The coordinator's handle on N training workers. Every call goes to all of them at once; if one
// fails or dies, the others are woken out of their barriers (abortAllReduce), all threads are stopped
// and the call rejects with the first real cause, naming the worker.
import { within } from '../../flow/clock.ts';
import { WorkerCalls } from '../../worker-calls.ts';
import type { TrainWorkerCall } from './protocol.ts';
import { abortAllReduce, type SharedAllReduceBuffers } from './shared-allreduce.ts';

/** How long a failed call waits for the other workers' errors before it reports. */
const ECHO_GRACE_MS = 2_000;

export class TrainWorkerPool {
  private failure: Error | null = null;
  private allReduce: SharedAllReduceBuffers | null = null;

  private constructor(private readonly calls: WorkerCalls<TrainWorkerCall>[]) {}

  static start(workerUrl: URL | string, workers: number): TrainWorkerPool {
    return new TrainWorkerPool(Array.from({ length: workers }, (_, rank) => new WorkerCalls<TrainWorkerCall>(new Worker(workerUrl), `training worker ${rank}`)));
  }

  get size(): number {
    return this.calls.length;
  }

  /** Sends `callOf(rank)` to every worker; resolves with their answers in rank order. */
  async all<T>(callOf: (rank: number) => TrainWorkerCall): Promise<T[]> {
    if (this.failure) throw this.failure;
    const pending = this.calls.map((calls, rank) =>
      (calls.call(callOf(rank)) as Promise<T>).catch((error: unknown) => {
        this.fail(rank, error);
        throw error;
      }),
    );
    try {
      return await Promise.all(pending);
    } catch {
      // Promise.all settles on the first rejection, which may be an echo (AllReduceAborted) of the real
      // cause: give the others a moment to report theirs, but no more (a hung worker never answers).
      await within(Promise.allSettled(pending), ECHO_GRACE_MS, () => undefined);
      throw this.failure ?? new Error('training failed');
    }
  }

  /** Once created, the exchange is woken up whenever the run fails. */
  attach(allReduce: SharedAllReduceBuffers): void {
    this.allReduce = allReduce;
  }

  /** Stops the run from outside (SIGTERM, a test killing a thread): waiting workers wake and fail. */
  abort(reason: Error, rank?: number): void {
    this.failure ??= reason;
    if (this.allReduce) abortAllReduce(this.allReduce);
    if (rank !== undefined) this.calls[rank]?.terminate(reason);
  }

  /** Stops one worker's thread as a crash would (tests: the run must fail, not hang). */
  kill(rank: number): void {
    this.calls[rank]?.terminate(new Error(`training worker ${rank} was terminated`));
  }

  close(): void {
    const reason = this.failure ?? new Error('training workers closed');
    if (this.allReduce) abortAllReduce(this.allReduce);
    for (const calls of this.calls) calls.terminate(reason);
  }

  private fail(rank: number, error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    // An AllReduceAborted is the echo of someone else's failure, not a cause.
    if (err.name !== 'AllReduceAborted') this.failure ??= new Error(`training worker ${rank} failed: ${err.message}`, { cause: err });
    if (this.allReduce) abortAllReduce(this.allReduce);
  }
}
