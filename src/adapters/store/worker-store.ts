// The Store interface, served by a PouchStore on a thread of its own (src/store-worker.ts). Same
// contract, same conformance suite; the main thread only posts calls and awaits answers.
import { pouchStoreName, type PouchStoreOptions } from './pouch-store.ts';
import { StoreError, StoreInUseError, type FeedbackQuery, type FeedbackSample, type FeedbackState, type NewFeedback, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store, type SweepReport, type SweepTotals } from './store.ts';
import type { ForwardedMethod, StoreCall } from './worker-protocol.ts';
import { WorkerCalls } from '../../worker-calls.ts';

export class WorkerStore implements Store {
  readonly name: string;
  private calls: WorkerCalls<StoreCall> | null = null;

  constructor(
    private readonly options: PouchStoreOptions,
    private readonly workerUrl: URL,
  ) {
    this.name = pouchStoreName(options);
  }

  async open(): Promise<void> {
    const calls = new WorkerCalls<StoreCall>(new Worker(this.workerUrl), 'store thread');
    this.calls = calls;
    try {
      await calls.call({ method: 'open', options: this.options });
    } catch (error) {
      this.calls = null;
      calls.terminate(new StoreError('store is closed'));
      // An error crosses the thread as its name and message: the class is made again on this side.
      throw error instanceof Error && error.name === 'StoreInUseError' ? new StoreInUseError(error.message) : error;
    }
  }

  async close(): Promise<void> {
    const calls = this.calls;
    if (!calls) return;
    this.calls = null;
    try {
      await calls.call({ method: 'close' });
    } finally {
      calls.terminate(new StoreError('store is closed'));
    }
  }

  healthy(): boolean {
    return this.calls?.alive ?? false;
  }

  saveResults(results: readonly PredictionResult[]): Promise<SaveOutcome[]> {
    return this.forward('saveResults', results);
  }

  getResult(id: string): Promise<PredictionResult | null> {
    return this.forward('getResult', id);
  }

  sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    return this.forward('sessionHistory', sessionId, limit);
  }

  clearSession(sessionId: string): Promise<number> {
    return this.forward('clearSession', sessionId);
  }

  saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    return this.forward('saveModel', meta, files);
  }

  listModels(): Promise<ModelVersion[]> {
    return this.forward('listModels');
  }

  deleteModel(version: string): Promise<boolean> {
    return this.forward('deleteModel', version);
  }

  loadModel(version: string): Promise<ModelFiles | null> {
    return this.forward('loadModel', version);
  }

  getServingVersion(): Promise<string | null> {
    return this.forward('getServingVersion');
  }

  setServingVersion(version: string): Promise<void> {
    return this.forward('setServingVersion', version);
  }

  saveFeedback(sample: NewFeedback): Promise<string> {
    return this.forward('saveFeedback', sample);
  }

  listFeedback(limit: number, query?: FeedbackQuery): Promise<FeedbackSample[]> {
    return this.forward('listFeedback', limit, query);
  }

  reviewFeedback(id: string, label: number, state: Exclude<FeedbackState, 'pending'>): Promise<FeedbackSample | null> {
    return this.forward('reviewFeedback', id, label, state);
  }

  sweep(now?: number): Promise<SweepReport> {
    return this.forward('sweep', now);
  }

  sweepTotals(): Promise<SweepTotals> {
    return this.forward('sweepTotals');
  }

  private forward<M extends ForwardedMethod>(method: M, ...args: Parameters<Store[M]>): ReturnType<Store[M]> {
    return (this.calls ? this.calls.call({ method, args }) : Promise.reject(new StoreError('store is closed'))) as ReturnType<Store[M]>;
  }
}
