// The Store interface, served by a PouchStore on a thread of its own (src/store-worker.ts). Same
// contract, same conformance suite; the main thread only posts calls and awaits answers.
import type { PouchStoreOptions } from './pouch-store.ts';
import { StoreError, type FeedbackSample, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store } from './store.ts';
import type { StoreCall } from './worker-protocol.ts';
import { WorkerCalls } from '../../worker-calls.ts';

export class WorkerStore implements Store {
  readonly name = 'pouchdb';
  readonly capabilities: { durable: boolean };
  private calls: WorkerCalls<StoreCall> | null = null;

  constructor(
    private readonly options: PouchStoreOptions,
    private readonly workerUrl: URL,
  ) {
    this.capabilities = Object.freeze({ durable: options.adapter === 'leveldb' });
  }

  async open(): Promise<void> {
    const calls = new WorkerCalls<StoreCall>(new Worker(this.workerUrl), 'store thread');
    this.calls = calls;
    try {
      await calls.call({ method: 'open', options: this.options });
    } catch (error) {
      this.calls = null;
      calls.terminate(new StoreError('store is closed'));
      throw error;
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
    return this.call({ method: 'saveResults', results }) as Promise<SaveOutcome[]>;
  }

  getResult(id: string): Promise<PredictionResult | null> {
    return this.call({ method: 'getResult', id }) as Promise<PredictionResult | null>;
  }

  sessionHistory(sessionId: string, limit: number): Promise<PredictionResult[]> {
    return this.call({ method: 'sessionHistory', sessionId, limit }) as Promise<PredictionResult[]>;
  }

  clearSession(sessionId: string): Promise<number> {
    return this.call({ method: 'clearSession', sessionId }) as Promise<number>;
  }

  saveModel(meta: ModelVersion, files: ModelFiles): Promise<SaveOutcome> {
    return this.call({ method: 'saveModel', meta, files }) as Promise<SaveOutcome>;
  }

  listModels(): Promise<ModelVersion[]> {
    return this.call({ method: 'listModels' }) as Promise<ModelVersion[]>;
  }

  loadModel(version: string): Promise<ModelFiles | null> {
    return this.call({ method: 'loadModel', version }) as Promise<ModelFiles | null>;
  }

  getServingVersion(): Promise<string | null> {
    return this.call({ method: 'getServingVersion' }) as Promise<string | null>;
  }

  async setServingVersion(version: string): Promise<void> {
    await this.call({ method: 'setServingVersion', version });
  }

  async saveFeedback(sample: FeedbackSample): Promise<void> {
    await this.call({ method: 'saveFeedback', sample });
  }

  listFeedback(limit: number): Promise<FeedbackSample[]> {
    return this.call({ method: 'listFeedback', limit }) as Promise<FeedbackSample[]>;
  }

  private call(call: StoreCall): Promise<unknown> {
    return this.calls ? this.calls.call(call) : Promise.reject(new StoreError('store is closed'));
  }
}
