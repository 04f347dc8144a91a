// The Classifier's job (images in, probabilities out) done by onnxruntime instead of tfjs: it serves the
// model.onnx a version comes with, or else exports the tfjs layers model to ONNX in memory as it loads,
// so a model directory serves on either engine.
// Unlike Classifier.predict, predict here is async: onnxruntime-node answers with a promise, though it
// runs the session on the calling thread (a turn later), so it blocks that thread as tfjs does.
import type * as Ort from 'onnxruntime-node';
import { PIXELS } from '../../protocol/image.ts';
import type { EngineModel } from '../engines.ts';
import type { ModelSource } from '../model-source.ts';
import { exportToOnnx, ONNX_INPUT, ONNX_OUTPUT } from './export-onnx.ts';
import { loadOnnxRuntime, type OnnxRuntime } from './onnx-runtime.ts';
import { classifierImageShape } from './session-interface.ts';

export interface OnnxClassifierOptions {
  /**
   * Threads one prediction may use. 1 by default: the service runs one classifier per inference
   * thread and scales by batching and by consumers, so a session that fans out would compete with
   * the HTTP server and the other threads for the same cores.
   */
  readonly intraOpNumThreads?: number;
}

export class OnnxClassifier implements EngineModel {
  private constructor(
    readonly version: string,
    private readonly ort: OnnxRuntime,
    private readonly session: Ort.InferenceSession,
    /** [28,28,1] for a CNN, [784] for a dense model: what one image must look like to this model. */
    private readonly imageShape: readonly number[],
  ) {}

  static async load(source: ModelSource, options: OnnxClassifierOptions = {}): Promise<OnnxClassifier> {
    // The trainer's model.onnx when the version has one; else the tfjs files, exported now.
    const bytes = source.modelOnnx ?? exportToOnnx(source).bytes;
    const ort = await loadOnnxRuntime();
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(bytes, {
        intraOpNumThreads: options.intraOpNumThreads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (error) {
      if (!source.modelOnnx) throw error;
      throw new Error(`model ${source.version}: its model.onnx does not load in ONNX Runtime: ${(error as Error).message}`, { cause: error });
    }
    try {
      const classifier = new OnnxClassifier(source.version, ort, session, classifierImageShape(session, source.version));
      // The first run allocates and plans; pay for it now, not in the first request.
      await classifier.predict(new Float32Array(PIXELS), 1);
      return classifier;
    } catch (error) {
      await session.release();
      throw error;
    }
  }

  /** `images` holds `count` row-major 28×28 images in 0..1; resolves to count×10 probabilities. */
  async predict(images: Float32Array, count: number): Promise<Float32Array> {
    if (images.length !== count * PIXELS) throw new Error(`expected ${count * PIXELS} values, got ${images.length}`);
    const input = new this.ort.Tensor('float32', images, [count, ...this.imageShape]);
    const results = await this.session.run({ [ONNX_INPUT]: input });
    const output = results[ONNX_OUTPUT];
    if (!(output?.data instanceof Float32Array)) throw new Error(`model ${this.version} gave no float32 ${ONNX_OUTPUT}`);
    return output.data;
  }

  dispose(): Promise<void> {
    return this.session.release();
  }
}
