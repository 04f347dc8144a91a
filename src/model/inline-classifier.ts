// Inference on the calling thread (--inference main). No hand-off, so no per-batch message round trip
// (~1 ms in a Bun worker), at the price of blocking the event loop for each batch, on either engine. Without
// HTTP in the way it is faster; behind the gateway the worker wins (bench/local.ts: 1,640 vs 1,413/s,
// default model, wasm).
import type { EngineModel, EngineName } from './engines.ts';
import { loadOnEngine } from './load-on-engine.ts';
import type { ModelSource } from './model-source.ts';
import type { Predictor } from './worker-classifier.ts';

export class InlineClassifier implements Predictor {
  alive = true;

  private constructor(
    private readonly model: EngineModel,
    readonly engine: EngineName,
  ) {}

  static async start(engine: EngineName, source: ModelSource): Promise<InlineClassifier> {
    return new InlineClassifier(await loadOnEngine(engine, source), engine);
  }

  get version(): string {
    return this.model.version;
  }

  async predict(images: Float32Array, count: number): Promise<Float32Array> {
    return this.model.predict(images, count);
  }

  async close(): Promise<void> {
    this.alive = false;
    await this.model.dispose();
  }
}
