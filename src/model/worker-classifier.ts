// The consumer's handle on the inference worker: predict() posts the images (transferred, not copied)
// and resolves with the probabilities. If the worker dies, every pending call fails and `alive` turns
// false, so the supervisor's restart of the consumer starts a fresh worker.
import { WorkerCalls } from '../worker-calls.ts';
import type { EngineName } from './engines.ts';
import type { ModelSource } from './model-source.ts';
import type { InferenceCall } from './worker-protocol.ts';

export interface Predictor {
  readonly version: string;
  /** What runs the model (engines.ts). */
  readonly engine: EngineName;
  readonly alive: boolean;
  /** `count` images of 784 values → count×10 probabilities. */
  predict(images: Float32Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

export class WorkerClassifier implements Predictor {
  private constructor(
    private readonly calls: WorkerCalls<InferenceCall>,
    readonly version: string,
    readonly engine: EngineName,
  ) {}

  static async start(workerUrl: URL | string, engine: EngineName, source: ModelSource): Promise<WorkerClassifier> {
    const calls = new WorkerCalls<InferenceCall>(new Worker(workerUrl), 'inference worker');
    try {
      await calls.call({ method: 'load', engine, source });
    } catch (error) {
      calls.terminate(new Error('inference worker stopped: its model did not load'));
      throw new Error(`model ${source.version} did not load: ${(error as Error).message}`);
    }
    return new WorkerClassifier(calls, source.version, engine);
  }

  get alive(): boolean {
    return this.calls.alive;
  }

  predict(images: Float32Array, count: number): Promise<Float32Array> {
    // Transfer only a buffer the images own whole; a view into a larger message must be copied.
    const owned = images.byteOffset === 0 && images.byteLength === images.buffer.byteLength;
    return this.calls.call({ method: 'predict', images, count }, owned ? [images.buffer as ArrayBuffer] : []) as Promise<Float32Array>;
  }

  async close(): Promise<void> {
    this.calls.terminate(new Error('inference worker closed'));
  }
}
