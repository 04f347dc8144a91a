// The consumer's handle on the inference worker: predict() posts the images (transferred, not copied)
// and resolves with the probabilities. If the worker dies, every pending call fails and `alive` turns
// false, so the supervisor's restart of the consumer starts a fresh worker.
import type { ModelSource } from './shape.ts';
import type { WorkerReply, WorkerRequest } from './worker-protocol.ts';

export interface Predictor {
  readonly version: string;
  readonly alive: boolean;
  /** `count` images of 784 values → count×10 probabilities. */
  predict(images: Float32Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

interface Waiting {
  resolve(probabilities: Float32Array): void;
  reject(error: Error): void;
}

export class WorkerClassifier implements Predictor {
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 0;
  alive = true;

  private constructor(
    private readonly worker: Worker,
    readonly version: string,
  ) {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => this.settle(event.data);
    worker.onerror = (event) => this.die(new Error(`inference worker failed: ${event.message}`));
    worker.addEventListener('close', () => this.die(new Error('inference worker exited')));
  }

  static async start(workerUrl: URL | string, source: ModelSource): Promise<WorkerClassifier> {
    const worker = new Worker(workerUrl);
    const loaded = new Promise<void>((resolve, reject) => {
      worker.onmessage = (event: MessageEvent<WorkerReply>) => {
        if (event.data.type === 'loaded') resolve();
        else if (event.data.type === 'failed') reject(new Error(`model ${source.version} did not load: ${event.data.message}`));
      };
      worker.onerror = (event) => reject(new Error(`inference worker failed to start: ${event.message}`));
    });
    const request: WorkerRequest = { type: 'load', source };
    worker.postMessage(request);
    try {
      await loaded;
    } catch (error) {
      worker.terminate();
      throw error;
    }
    return new WorkerClassifier(worker, source.version);
  }

  predict(images: Float32Array, count: number): Promise<Float32Array> {
    if (!this.alive) return Promise.reject(new Error('inference worker is not running'));
    const id = ++this.nextId;
    return new Promise<Float32Array>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const request: WorkerRequest = { type: 'predict', id, images, count };
      // Transfer only a buffer the images own whole; a view into a larger message must be copied.
      const owned = images.byteOffset === 0 && images.byteLength === images.buffer.byteLength;
      this.worker.postMessage(request, owned ? [images.buffer as ArrayBuffer] : []);
    });
  }

  async close(): Promise<void> {
    this.die(new Error('inference worker closed'));
    this.worker.terminate();
  }

  private settle(reply: WorkerReply): void {
    if (reply.type === 'loaded' || reply.id === null) return;
    const waiting = this.waiting.get(reply.id);
    if (!waiting) return;
    this.waiting.delete(reply.id);
    if (reply.type === 'predicted') waiting.resolve(reply.probabilities);
    else waiting.reject(new Error(reply.message));
  }

  private die(error: Error): void {
    this.alive = false;
    for (const waiting of this.waiting.values()) waiting.reject(error);
    this.waiting.clear();
  }
}
