// Inference on the calling thread (--inference main). No hand-off, so no per-batch message round trip
// (~1 ms in a Bun worker), at the price of blocking the event loop for each batch. Without HTTP in the
// way it is faster; behind the gateway the worker wins (bench/local.ts: 1,640 vs 1,413/s, default model).
import { Classifier } from './classifier.ts';
import type { ModelSource } from './model-source.ts';
import { initWasmBackend } from './wasm-backend.ts';
import type { Predictor } from './worker-classifier.ts';

export class InlineClassifier implements Predictor {
  alive = true;

  private constructor(private readonly classifier: Classifier) {}

  static async start(source: ModelSource): Promise<InlineClassifier> {
    await initWasmBackend();
    return new InlineClassifier(await Classifier.load(source));
  }

  get version(): string {
    return this.classifier.version;
  }

  async predict(images: Float32Array, count: number): Promise<Float32Array> {
    return this.classifier.predict(images, count);
  }

  async close(): Promise<void> {
    this.alive = false;
    this.classifier.dispose();
  }
}
