// The engines a consumer can run its model on, and what a model loaded on either offers. tfjs-free and
// onnxruntime-free, so that the config can list the names and the thread plumbing can share the types.
//   onnx: onnxruntime-node, on the version's model.onnx, or else the tfjs layers model exported to ONNX
//         when it loads (onnx/export-onnx.ts).
//   wasm: tfjs on its WebAssembly backend, the files embedded in the binary; it runs everywhere.
export const ENGINES = ['onnx', 'wasm'] as const;
export type EngineName = (typeof ENGINES)[number];

/**
 * A model loaded on one engine, as the inference thread (or --inference main) calls it. tfjs answers at
 * once and onnxruntime with a promise, so callers await either; both take `count` row-major 28×28 images
 * in 0..1 and give count×10 probabilities.
 */
export interface EngineModel {
  readonly version: string;
  predict(images: Float32Array, count: number): Float32Array | Promise<Float32Array>;
  dispose(): void | Promise<void>;
}
