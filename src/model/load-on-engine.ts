// Loads a model's files on the engine the process chose: the one call the inference thread and
// --inference main share, so nothing above them knows which engine answers.
// Each engine is imported only when asked for: a thread serving on onnxruntime never pays for tfjs
// (~100 ms to import), and one on wasm never maps onnxruntime's 47 MB library.
import type { EngineModel, EngineName } from './engines.ts';
import type { ModelSource } from './model-source.ts';

export async function loadOnEngine(engine: EngineName, source: ModelSource): Promise<EngineModel> {
  if (engine === 'onnx') {
    const { OnnxClassifier } = await import('./onnx/onnx-classifier.ts');
    return OnnxClassifier.load(source);
  }
  const [{ Classifier }, { initWasmBackend }] = await Promise.all([import('./classifier.ts'), import('./wasm-backend.ts')]);
  await initWasmBackend();
  return Classifier.load(source);
}
