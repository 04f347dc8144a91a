// The Store interface, served by a PouchStore on a thread of its own (src/store-worker.ts). Same
// contract, same conformance suite; the main thread only posts calls and awaits answers.
import type { PouchStoreOptions } from './pouch-store.ts';
import { StoreError, type ModelFiles, type ModelVersion, type PredictionResult, type SaveOutcome, type Store } from './store.ts';
import type { StoreCall, StoreReply } from './worker-store-protocol.ts';

interface Waiting {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

export class WorkerStore implements Store {
  readonly name = 'pouchdb';
  readonly capabilities: { durable: boolean };
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;

  constructor(
    private readonly options: PouchStoreOptions,
    private readonly workerUrl: URL,
  ) {
    this.capabilities = Object.freeze({ durable: options.adapter === 'leveldb' });
  }

  async open(): Promise<void> {
    const worker = new Worker(this.workerUrl);
    worker.onmessage = (event: MessageEvent<StoreReply>) => this.settle(event.data);
    worker.onerror = (event) => this.failAll(new StoreError(`store thread failed: ${event.message}`));
    this.worker = worker;
    try {
      await this.call({ method: 'open', options: this.options });
    } catch (error) {
      this.worker = null;
      worker.terminate();
      throw error;
    }
  }

  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    try {
      await this.call({ method: 'close' });
    } finally {
      this.worker = null;
      worker.terminate();
      this.failAll(new StoreError('store is closed'));
    }
  }

  healthy(): boolean {
    return this.worker !== null;
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

  private call(call: StoreCall): Promise<unknown> {
    const worker = this.worker;
    if (!worker) return Promise.reject(new StoreError('store is closed'));
    const id = ++this.nextId;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, call });
    });
  }

  private settle(reply: StoreReply): void {
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (reply.ok) waiting.resolve(reply.value);
    else waiting.reject(Object.assign(new StoreError(reply.message), { name: reply.name }));
  }

  private failAll(error: Error): void {
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
